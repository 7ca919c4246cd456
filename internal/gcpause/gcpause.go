// Package gcpause stops the garbage collector while a bulk load builds
// state that stays: an instance's start-up, a simulation's replay. Nothing
// such a load builds becomes garbage while it runs, and each collection
// would mark the whole state built so far. Loads that overlap in one
// process share one pause: the collector runs again when the last ends,
// with the settings from before the first.
package gcpause

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync"
)

// minGrow is the least room a limit set by Pause leaves above the heap.
const minGrow = 256 << 20

var pause struct {
	sync.Mutex
	n       int   // pauses not yet resumed
	percent int   // the GC percentage before the first
	limit   int64 // the soft memory limit before the first
	ours    bool  // the limit in force is one Pause set
}

// Pause stops the collector until resume is called; calls of resume after
// the first do nothing. The soft memory limit in force, if any, still
// holds the heap (every rung command sets one). When none is in force and
// grow is positive, Pause sets one at the heap's size plus grow bytes (at
// least 256 MiB), raised by grow for each later pause that overlaps, so
// that the heap stays bounded; with grow 0 and no limit the heap grows
// unbounded until resume.
func Pause(grow int64) (resume func()) {
	pause.Lock()
	defer pause.Unlock()
	if pause.n == 0 {
		pause.percent = debug.SetGCPercent(-1)
		pause.limit = debug.SetMemoryLimit(-1)
		pause.ours = false
	}
	pause.n++
	if grow > 0 && pause.limit == math.MaxInt64 {
		base := debug.SetMemoryLimit(-1)
		if !pause.ours {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base, pause.ours = int64(ms.HeapSys), true
		}
		debug.SetMemoryLimit(base + max(grow, minGrow))
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pause.Lock()
			defer pause.Unlock()
			if pause.n--; pause.n > 0 {
				return
			}
			if pause.ours {
				debug.SetMemoryLimit(pause.limit)
			}
			// Someone else may have set the percentage meanwhile: keep
			// theirs.
			if cur := debug.SetGCPercent(pause.percent); cur != -1 {
				debug.SetGCPercent(cur)
			}
		})
	}
}

// Limited reports whether a soft memory limit is in force.
func Limited() bool { return debug.SetMemoryLimit(-1) != math.MaxInt64 }
