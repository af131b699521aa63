#!/usr/bin/env python3
"""What fresh memory costs on this machine: maps MB megabytes, asks for huge pages or not,
writes one byte per 4 KB page and prints the CPU time per MB (the kernel's page faults and
zeroing). docs/benchmarks.md (fifth round) quotes it.

    python3 bench/page_fault_probe.py 512 huge     # madvise(MADV_HUGEPAGE)
    python3 bench/page_fault_probe.py 512 small    # madvise(MADV_NOHUGEPAGE): 4 KB pages

Alternate the two, several times: with huge pages the cost depends on whether the kernel
must compact memory to find free 2 MB pages.
"""
import mmap
import sys
import time


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[2] not in ("huge", "small") or not sys.argv[1].isdigit():
        sys.exit("usage: page_fault_probe.py MB huge|small")
    mb, huge = int(sys.argv[1]), sys.argv[2] == "huge"
    size = mb << 20
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE if huge else mmap.MADV_NOHUGEPAGE)
    c0 = time.process_time()
    for off in range(0, size, 4096):
        m[off] = 1
    cpu_ms = 1000 * (time.process_time() - c0)
    kind = "huge pages" if huge else "4 KB pages"
    print(f"{mb} MB, {kind}: {cpu_ms:.1f} ms CPU, {cpu_ms / mb:.2f} ms per MB")


if __name__ == "__main__":
    main()
