package transcript

import "slices"

func stableSortByAt(ev []Event) {
	slices.SortStableFunc(ev, func(a, b Event) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
}
