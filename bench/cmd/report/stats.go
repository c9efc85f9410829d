package main

import (
	goruntime "runtime"
	"slices"
	"time"
)

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratios are a[i]/b[i], round by round.
func ratios(a, b []float64) []float64 {
	r := make([]float64, min(len(a), len(b)))
	for i := range r {
		if b[i] != 0 {
			r[i] = a[i] / b[i]
		}
	}
	return r
}

// perCall runs f for at least d and at least three times, after a
// collection so that the previous contestant's garbage is not charged to
// it, and returns the seconds per call.
func perCall(d time.Duration, f func() error) (float64, error) {
	goruntime.GC()
	n := 0
	start := time.Now()
	for n < 3 || time.Since(start) < d {
		if err := f(); err != nil {
			return 0, err
		}
		n++
	}
	return time.Since(start).Seconds() / float64(n), nil
}

// alternate measures every contestant once per round, starting each round
// with the next one, so that none is always first after a pause or always
// last in a drift. It returns each contestant's results, round by round.
func alternate(rounds int, contestants []func() (float64, error), after func(round int, results []float64)) ([][]float64, error) {
	out := make([][]float64, len(contestants))
	for r := 0; r < rounds; r++ {
		results := make([]float64, len(contestants))
		for k := range contestants {
			i := (r + k) % len(contestants)
			v, err := contestants[i]()
			if err != nil {
				return nil, err
			}
			results[i] = v
			out[i] = append(out[i], v)
		}
		if after != nil {
			after(r, results)
		}
	}
	return out, nil
}
