package scoring

import (
	"math"
	"testing"
	"time"
)

// anchorDistanceByDate is anchorDistance as it was written before it cached the months:
// three time.Date calls per day and anchor. The cached form must equal it everywhere.
func anchorDistanceByDate(d int64, a int) int64 {
	t := dayTime(d)
	best := int64(math.MaxInt64)
	for k := -1; k <= 1; k++ {
		m := time.Date(t.Year(), t.Month()+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
		last := m.AddDate(0, 1, -1).Day()
		diff := d - dayOf(time.Date(m.Year(), m.Month(), min(a, last), 0, 0, 0, 0, time.UTC))
		best = min(best, max(diff, -diff))
	}
	return best
}

func TestAnchorDistanceEqualsCalendar(t *testing.T) {
	t.Parallel()
	from := dayOf(time.Date(1999, 12, 1, 0, 0, 0, 0, time.UTC)) // leap years 2000, 2004, …; 2100 is not one
	to := dayOf(time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC))
	days := append([]int64{0, 1, dayOf(time.Date(2100, 2, 28, 0, 0, 0, 0, time.UTC))}, from)
	for d := from + 1; d <= to; d++ {
		days = append(days, d)
	}
	for _, d := range days {
		ms := neighbourMonths(d)
		for a := 1; a <= 31; a++ {
			if got, want := ms.anchorDistance(d, a), anchorDistanceByDate(d, a); got != want {
				t.Fatalf("day %s anchor %d: %d, want %d", dayString(d), a, got, want)
			}
		}
	}
}

// TestDayStringEqualsFormat: the hand-written date forms equal time.Format's, on every
// day of 1890–2110 and on days far outside four-digit years.
func TestDayStringEqualsFormat(t *testing.T) {
	t.Parallel()
	days := []int64{-1_000_000, -719_529, -719_528, 2_932_896, 2_932_897, 5_000_000}
	for d := dayOf(time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC)); d <= dayOf(time.Date(2110, 12, 31, 0, 0, 0, 0, time.UTC)); d++ {
		days = append(days, d)
	}
	for _, d := range days {
		if got, want := dayString(d), dayTime(d).Format(time.DateOnly); got != want {
			t.Fatalf("day %d: dayString %q, want %q", d, got, want)
		}
		k, ok := monthKey(d)
		want := dayTime(d).Format("2006-01")
		if ok != (len(want) == 7) || ok && string(k[:]) != want {
			t.Fatalf("day %d: monthKey %q %v, want %q", d, k[:], ok, want)
		}
	}
}
