//go:build !linux

package hugeheap

import "errors"

func readMode() string { return "" }

func adviseHeap([]uintptr) error { return errors.New("hugeheap: not supported") }

func physical() int64 { return 0 }
