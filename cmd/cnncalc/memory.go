package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// physicalMemory is the machine's physical memory in bytes, 0 when unknown;
// tests replace it.
var physicalMemory = memTotal

// memTotal reads MemTotal from /proc/meminfo (Linux); 0 elsewhere or when
// it cannot be read.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// MemTotal:       24683584 kB
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 || kb > math.MaxInt64/1024 {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// refuseMemory says why a run estimated to need need bytes cannot go
// ahead: it is above limit (--max-memory), or above the machine's physical
// memory whatever the limit says (the run would end in a fatal
// out-of-memory, not an error). nil when it can go ahead.
func refuseMemory(need, limit int64) error {
	if need > limit {
		return fmt.Errorf("needs about %s, above --max-memory %s", sizeText(need), sizeText(limit))
	}
	if phys := physicalMemory(); phys > 0 && need > phys {
		return fmt.Errorf("needs about %s, more than this machine's %s of memory (MemTotal in /proc/meminfo), whatever --max-memory says", sizeText(need), sizeText(phys))
	}
	return nil
}

// sizeText writes a size in bytes with a binary unit: 512 B, 1.5 KiB,
// 64.0 MiB, 4.0 GiB; a size that saturated (math.MaxInt64) is beyond
// counting.
func sizeText(b int64) string {
	if b == math.MaxInt64 {
		return "more than 8 EiB"
	}
	if b < 1024 {
		return fmt.Sprintf("%d B", b)
	}
	v := float64(b)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= 1024
		if v < 1024 {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return fmt.Sprintf("%.1f EiB", v/1024)
}
