package source

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SalesforceRecordField is the field that holds a Salesforce record's id.
const SalesforceRecordField = "Id"

// outboundNS is the namespace of Salesforce Outbound Message notifications.
const outboundNS = "http://soap.sforce.com/2005/09/outbound"

// OutboundAck is the answer Salesforce expects to an Outbound Message it
// may stop resending: the notificationsResponse envelope with Ack true.
const OutboundAck = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body>
    <notificationsResponse xmlns="` + outboundNS + `">
      <Ack>true</Ack>
    </notificationsResponse>
  </soapenv:Body>
</soapenv:Envelope>
`

// maxXMLDepth bounds how deep an Outbound Message nests.
const maxXMLDepth = 32

// ParseOutbound reads a Salesforce Outbound Message: a SOAP envelope whose
// notifications hold the sending org's OrganizationId and one Notification
// per record, each an sObject with the fields the message was set up to
// send. A related record's fields (Account.Name) are named with a dot. A
// record's version is its LastModifiedDate (or SystemModstamp) in
// milliseconds.
func ParseOutbound(body []byte) (org string, changes []Change, err error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	depth := 0
	var cur *Change
	var fieldPath []string // inside an sObject: the open fields
	var parent []bool      // inside an sObject: whether each open field has children
	var textBuf strings.Builder
	inNotifications := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("expected a Salesforce Outbound Message (SOAP XML): %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				return "", nil, fmt.Errorf("the XML nests deeper than %d elements", maxXMLDepth)
			}
			textBuf.Reset()
			switch {
			case cur != nil:
				if len(parent) > 0 {
					parent[len(parent)-1] = true
				}
				fieldPath = append(fieldPath, t.Name.Local)
				parent = append(parent, false)
			case t.Name.Local == "notifications" && t.Name.Space == outboundNS:
				inNotifications = true
			case t.Name.Local == "sObject" && inNotifications:
				typ := ""
				for _, a := range t.Attr {
					if a.Name.Local == "type" {
						typ = a.Value
					}
				}
				if _, after, ok := strings.Cut(typ, ":"); ok {
					typ = after
				}
				if typ == "" {
					return "", nil, fmt.Errorf("an sObject without xsi:type: expected like xsi:type=\"sf:Opportunity\"")
				}
				cur = &Change{Object: typ, Fields: map[string]any{}}
			}
		case xml.CharData:
			if textBuf.Len()+len(t) > 1<<20 {
				return "", nil, fmt.Errorf("a field holds more than 1 MiB of text")
			}
			textBuf.Write(t)
		case xml.EndElement:
			depth--
			switch {
			case cur != nil && len(fieldPath) == 0: // the sObject ends
				if err := finishOutbound(cur); err != nil {
					return "", nil, err
				}
				changes = append(changes, *cur)
				cur = nil
			case cur != nil:
				if !parent[len(parent)-1] {
					cur.Fields[strings.Join(fieldPath, ".")] = strings.TrimSpace(textBuf.String())
				}
				fieldPath, parent = fieldPath[:len(fieldPath)-1], parent[:len(parent)-1]
			case t.Name.Local == "OrganizationId" && inNotifications:
				org = strings.TrimSpace(textBuf.String())
			case t.Name.Local == "notifications" && t.Name.Space == outboundNS:
				inNotifications = false
			}
			textBuf.Reset()
		}
	}
	if org == "" && len(changes) == 0 {
		return "", nil, fmt.Errorf("expected a SOAP envelope with <notifications xmlns=%q>; this is not a Salesforce Outbound Message", outboundNS)
	}
	if org == "" {
		return "", nil, fmt.Errorf("the Outbound Message has no OrganizationId")
	}
	return org, changes, nil
}

// finishOutbound sets an Outbound Message record's id and version.
func finishOutbound(c *Change) error {
	id, _ := c.Fields[SalesforceRecordField].(string)
	if id == "" {
		return fmt.Errorf("a %s notification without an Id field: add Id to the Outbound Message's fields", c.Object)
	}
	c.Record = id
	for _, f := range []string{"LastModifiedDate", "SystemModstamp"} {
		if t, ok := parseTime(c.Fields[f]); ok {
			c.Version, c.At = t.UnixMilli(), t
			break
		}
	}
	return nil
}

// ParseCDC reads Salesforce Change Data Capture or Platform Event messages
// as a relay delivers them: one message or a JSON array of them, each the
// event's payload, or an object holding it under "payload" (or
// "data.payload", as CometD delivers it, with the channel). A change event's
// ChangeEventHeader gives the object (entityName), the records
// (recordIds), changeType (CREATE, UPDATE, DELETE, UNDELETE, and the GAP_
// kinds), changedFields, commitTimestamp and commitNumber; a change is made
// per record id. A Platform Event (no header) is one record of the object
// its channel (/event/Deal_Won__e) or "object" names, with its replayId as
// id and version unless a mapping names its record field.
func ParseCDC(body []byte) ([]Change, error) {
	body = bytes.TrimSpace(body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var msgs []map[string]any
	var err error
	if len(body) > 0 && body[0] == '[' {
		err = dec.Decode(&msgs)
	} else {
		var m map[string]any
		err = dec.Decode(&m)
		msgs = []map[string]any{m}
	}
	if err != nil {
		return nil, fmt.Errorf("expected a change event as JSON (an object with ChangeEventHeader, or with payload), or an array of them: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("expected one JSON value, found more after it")
	}
	var out []Change
	for i, m := range msgs {
		cs, err := cdcMessage(m)
		if err != nil {
			return nil, fmt.Errorf("message %d: %v", i, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

func cdcMessage(m map[string]any) ([]Change, error) {
	if m == nil {
		return nil, fmt.Errorf("expected an object, got null")
	}
	channel, _ := m["channel"].(string)
	object, _ := m["object"].(string)
	var replay any
	if d, ok := m["data"].(map[string]any); ok {
		m = d
	}
	if e, ok := m["event"].(map[string]any); ok {
		replay = e["replayId"]
	}
	if p, ok := m["payload"].(map[string]any); ok {
		m = p
	}
	fields := numbers(m)
	h, ok := fields["ChangeEventHeader"].(map[string]any)
	if !ok {
		return platformEvent(fields, channel, object, replay)
	}
	delete(fields, "ChangeEventHeader")
	flatten(fields, "", fields, 0)
	entity, _ := h["entityName"].(string)
	if entity == "" {
		return nil, fmt.Errorf("ChangeEventHeader has no entityName")
	}
	kind, _ := h["changeType"].(string)
	var ids []string
	if raw, ok := h["recordIds"].([]any); ok {
		for _, r := range raw {
			if s, ok := r.(string); ok && s != "" {
				ids = append(ids, s)
			}
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("ChangeEventHeader has no recordIds")
	}
	c := Change{Object: entity, Fields: fields}
	switch strings.TrimPrefix(kind, "GAP_") {
	case "CREATE", "UNDELETE", "OVERWRITE":
	case "UPDATE":
		c.Changed = []string{}
		if raw, ok := h["changedFields"].([]any); ok {
			for _, f := range raw {
				if s, ok := f.(string); ok {
					c.Changed = append(c.Changed, s)
				}
			}
		}
		if strings.HasPrefix(kind, "GAP_") {
			c.Changed = nil // a gap event says only that the record changed
		}
	case "DELETE":
		c.Deleted = true
	default:
		return nil, fmt.Errorf("changeType %q is not CREATE, UPDATE, DELETE or UNDELETE", kind)
	}
	if n, ok := h["commitNumber"].(float64); ok && n > 0 {
		c.Version = int64(n)
	}
	if t, ok := parseTime(h["commitTimestamp"]); ok {
		c.At = t
		if c.Version == 0 {
			c.Version = t.UnixMilli()
		}
	}
	out := make([]Change, 0, len(ids))
	for _, id := range ids {
		ci := c
		ci.Fields = make(map[string]any, len(fields)+1)
		for k, v := range fields {
			ci.Fields[k] = v
		}
		ci.Fields[SalesforceRecordField] = id
		ci.Record = id
		out = append(out, ci)
	}
	return out, nil
}

// flatten names the parts of compound fields (Name.FirstName) beside the
// compound itself.
func flatten(dst map[string]any, prefix string, m map[string]any, depth int) {
	if depth > 4 {
		return
	}
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(dst, prefix+k+".", sub, depth+1)
			continue
		}
		if prefix != "" {
			dst[prefix+k] = v
		}
	}
}

// platformEvent makes the Change of a Platform Event message.
func platformEvent(fields map[string]any, channel, object string, replay any) ([]Change, error) {
	if object == "" {
		if i := strings.LastIndexByte(channel, '/'); i >= 0 {
			object = channel[i+1:]
		}
	}
	if object == "" {
		return nil, fmt.Errorf("no ChangeEventHeader and no channel or object: expected a change event, or a Platform Event with its channel (like /event/Deal_Won__e)")
	}
	c := Change{Object: object, Fields: fields}
	if n, ok := number(replay).(float64); ok && n > 0 {
		c.Version = int64(n)
		c.Record = strconv.FormatInt(int64(n), 10)
	}
	if t, ok := parseTime(fields["CreatedDate"]); ok {
		c.At = t
	}
	return []Change{c}, nil
}
