#!/bin/sh
# Size of the ARM image against the reference board's budgets.
#
# Usage: tools/size-report.sh build/arm/pillarbox.elf
#
# Prints the Berkeley text/data/bss totals, then what each memory region of
# board/mps2-an500/mps2-an500.ld holds: code flash (vectors, code, read-only
# data and the initial values of .data), SRAM (stack, .data, .bss, heap) and
# external RAM (.extram), each against its budget, with the largest
# sections.  Exits 1 if a region is over budget (the link should already
# have failed).
set -eu

elf=${1:?usage: size-report.sh ELF}
prefix=${ARM_PREFIX:-arm-none-eabi-}

echo "== $elf"
"${prefix}size" "$elf"
echo

# objdump -h: "Idx Name Size VMA LMA File-off Algn", then a line of flags.
"${prefix}objdump" -h -w "$elf" | awk '
# Portable (mawk has no strtonum).
function hex(s,    i, c, v) {
    v = 0
    s = tolower(s)
    for (i = 1; i <= length(s); i++) {
        c = index("0123456789abcdef", substr(s, i, 1))
        if (c == 0) break
        v = v * 16 + c - 1
    }
    return v
}
function region(addr) {
    if (addr < 2 * MiB) return "flash"
    if (addr >= SRAM0 && addr < SRAM0 + MiB) return "sram"
    if (addr >= EXT0 && addr < EXT0 + 16 * MiB) return "extram"
    return ""
}
function kib(n) { return sprintf("%9.1f KiB", n / 1024) }
BEGIN {
    MiB = 1024 * 1024
    SRAM0 = 536870912   # 0x20000000
    EXT0 = 1610612736   # 0x60000000
    budget["flash"] = 2 * MiB;  title["flash"] = "code flash"
    budget["sram"] = MiB;       title["sram"] = "SRAM"
    budget["extram"] = 16 * MiB; title["extram"] = "external RAM"
}
$1 ~ /^[0-9]+$/ && /ALLOC/ {
    name = $2; size = hex($3); vma = hex($4); lma = hex($5)
    r = region(vma)
    if (r == "") { printf "section %s at %d is outside every region\n", name, vma; bad = 1; next }
    used[r] += size
    list[r] = list[r] sprintf("      %-14s %s\n", name, kib(size))
    # Initialised data is stored in flash and copied to RAM at reset.
    if (/LOAD/ && lma != vma) {
        used["flash"] += size
        list["flash"] = list["flash"] sprintf("      %-14s %s  (initial values of %s)\n", name " (load)", kib(size), name)
    }
}
END {
    n = split("flash sram extram", order, " ")
    for (i = 1; i <= n; i++) {
        r = order[i]
        pct = 100.0 * used[r] / budget[r]
        over = used[r] > budget[r]
        printf "%-13s %s of %s  %5.1f%%%s\n", title[r], kib(used[r]), kib(budget[r]), pct, over ? "  OVER BUDGET" : ""
        printf "%s", list[r]
        if (over) bad = 1
    }
    exit bad
}'

echo
echo "largest RAM objects:"
"${prefix}nm" -S --size-sort "$elf" | awk '
function hex(s,    i, c, v) {
    v = 0
    s = tolower(s)
    for (i = 1; i <= length(s); i++) {
        c = index("0123456789abcdef", substr(s, i, 1))
        if (c == 0) break
        v = v * 16 + c - 1
    }
    return v
}
$3 ~ /^[bBdD]$/ { line[n++] = sprintf("      %-32s %9.1f KiB", $4, hex($2) / 1024) }
END { for (i = n - 1; i >= 0 && i >= n - 8; i--) print line[i] }'
