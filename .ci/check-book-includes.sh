#!/usr/bin/env bash
# Check that every code include in the book points at something real.
#
# The book never pastes code: it quotes the sources with
#   {{#include PATH}}  {{#include PATH:ANCHOR}}  {{#rustdoc_include PATH:ANCHOR}}
# mdBook still builds the book when such a file is missing (it only logs an error),
# and a missing anchor gives an empty listing without a word, so a renamed anchor
# would silently leave a hole in a chapter. This script turns both into a failure:
#   - PATH (relative to the .md file's directory) must be an existing file;
#   - ANCHOR must have both an `ANCHOR: name` and an `ANCHOR_END: name` line in it;
#   - numeric line ranges (`PATH:10`, `PATH:3:20`, `PATH::20`) are refused: they drift
#     as soon as the code above them changes. Wrap the piece in an anchor instead.
# Escaped includes (`\{{#include ...}}`, shown literally by mdBook) are skipped.
#
# Run from the repository root:  .ci/check-book-includes.sh
set -euo pipefail

book_src="book/src"
if [[ ! -d "$book_src" ]]; then
    echo "check-book-includes: $book_src not found; run this from the repository root" >&2
    exit 2
fi

checked=0
problems=()

# Where PATH points, relative to the repository root, for the messages.
shown_path() {
    realpath -m --relative-to=. "$1" 2>/dev/null || echo "$1"
}

while IFS= read -r -d '' md; do
    dir=$(dirname "$md")
    # One match per line of output: FILE:LINE:MATCH. mdBook allows blanks after `{{`
    # and between the command and its argument; the argument ends at the first `}`.
    while IFS= read -r hit; do
        [[ -z "$hit" ]] && continue
        line=${hit%%:*}
        link=${hit#*:}
        # An escaped include is shown as text, not expanded.
        if [[ "$link" == \\* ]]; then
            continue
        fi
        checked=$((checked + 1))
        at="line $line"

        arg=$(sed -E 's/^\{\{[[:space:]]*#(include|rustdoc_include)[[:space:]]+//; s/\}\}$//; s/[[:space:]]+$//' <<<"$link")
        path=${arg%%:*}
        if [[ "$arg" == *:* ]]; then
            spec=${arg#*:}
        else
            spec=""
        fi

        target="$dir/$path"
        if [[ ! -f "$target" ]]; then
            problems+=("$md: missing file $path ($at; looked for $(shown_path "$target"))")
            continue
        fi
        [[ -z "$spec" ]] && continue

        if [[ "$spec" =~ ^[0-9]*(:[0-9]*)?$ ]]; then
            problems+=("$md: line range $spec in $path ($at; only anchors are allowed: wrap the code in ANCHOR/ANCHOR_END comments)")
            continue
        fi
        if [[ ! "$spec" =~ ^[A-Za-z0-9_-]+$ ]]; then
            problems+=("$md: bad anchor name $spec in $path ($at; letters, digits, '_' and '-' only)")
            continue
        fi
        # mdBook's own rule: `ANCHOR:` then optional blanks then the name, which ends
        # at the first character that cannot be part of a name.
        if ! grep -Eq "ANCHOR:[[:space:]]*${spec}([^A-Za-z0-9_-]|\$)" "$target"; then
            problems+=("$md: missing anchor $spec in $path ($at; no 'ANCHOR: $spec' line in $(shown_path "$target"))")
        fi
        if ! grep -Eq "ANCHOR_END:[[:space:]]*${spec}([^A-Za-z0-9_-]|\$)" "$target"; then
            problems+=("$md: missing anchor $spec in $path ($at; no 'ANCHOR_END: $spec' line in $(shown_path "$target"))")
        fi
    done < <(grep -noE '\\?\{\{[[:space:]]*#(include|rustdoc_include)[[:space:]]+[^}]*\}\}' "$md" || true)
done < <(find "$book_src" -name '*.md' -print0 | sort -z)

if ((${#problems[@]} > 0)); then
    for p in "${problems[@]}"; do
        echo "$p" >&2
    done
    echo "book includes: $checked checked, ${#problems[@]} problem(s)" >&2
    exit 1
fi
echo "book includes: $checked checked, all present"
