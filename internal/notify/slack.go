package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// SlackMessage is what Rung posts to a Slack incoming webhook: the text
// (Slack's mrkdwn) and one section block per notification.
type SlackMessage struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks,omitempty"`
}

// SlackBlock is a section block of a Slack message.
type SlackBlock struct {
	Type string     `json:"type"`
	Text *SlackText `json:"text,omitempty"`
}

// SlackText is a text object of a block.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackEscape escapes what Slack reads as markup in text.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackMessage makes one message of items.
func slackMessage(items []Item) SlackMessage {
	var m SlackMessage
	var lines []string
	for _, it := range items {
		t := "*" + slackEscape(it.Title) + "*\n" + slackEscape(it.Line)
		if it.Link != "" {
			t += "\n<" + it.Link + "|" + slackEscape(it.LinkText) + ">"
		}
		lines = append(lines, slackEscape(it.Title))
		m.Blocks = append(m.Blocks, SlackBlock{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: t}})
	}
	m.Text = strings.Join(lines, " · ")
	return m
}

// postSlack posts a message to an incoming webhook URL. Slack answers 200
// with "ok"; anything else is an error that names the status and body.
func (s *Service) postSlack(ctx context.Context, webhook string, m SlackMessage) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("slack webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.o.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("slack webhook: %w", err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("slack webhook answered %s: %s", resp.Status, strings.TrimSpace(string(got)))
	}
	return nil
}
