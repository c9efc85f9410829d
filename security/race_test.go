//go:build race

package security

// raceDetector: the race detector keeps shadow memory beside the heap
// (Go documents 5-10x the memory), which the resident memory bound allows
// for.
const raceDetector = true
