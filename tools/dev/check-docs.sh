#!/bin/sh
# check-docs.sh - every directive and every route is documented (make check-docs,
# make test). TAP output, so `prove tools/dev/check-docs.sh` runs it too.
#
#   - Directives: every name in AP_INIT_*("Authsvc...", ...) in mod_authsvc.c and
#     src/*.c (a symbol defined as "Authsvc..." in src/ counts too) must have a
#     "## Name" section in docs/directives.md, and that section must have the labels
#     Description, Syntax, Default, Context, Override (as **Label** or a "| Label |"
#     table cell) and Example (the same, or a "### Example" heading).
#   - No "## Authsvc..." section may document a directive the command table lacks.
#   - Routes: every {M_METHOD, "/path", ...} entry of src/router.c must appear in
#     docs/api.md as "METHOD /path"; a '*' segment is written {name}, e.g. {id}.
#   - docs/openapi.yaml: tools/dev/check-openapi.py's checks (a valid OpenAPI 3.0
#     document, every $ref resolves, its paths are exactly the router's routes),
#     numbered into this script's plan.
#
# Exit status 0 when all is documented, 1 otherwise (each gap is a "not ok" line).
# AUTHSVC_DOCS_DIRECTIVES / AUTHSVC_DOCS_API name other files (to test this script).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIRECTIVES_MD=${AUTHSVC_DOCS_DIRECTIVES:-$ROOT/docs/directives.md}
API_MD=${AUTHSVC_DOCS_API:-$ROOT/docs/api.md}
ROUTER=$ROOT/src/router.c
LABELS="Description Syntax Default Context Override Example"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# The C sources with the command tables, flattened so that a call split over lines
# still matches; comments are not stripped (a commented-out AP_INIT would count).
sources() {
    cat "$ROOT/mod_authsvc.c" "$ROOT"/src/*.c 2>/dev/null
}

# Directive names: string literals, and symbols resolved through #define.
directives() {
    sources | tr '\n\t' '  ' |
        grep -oE 'AP_INIT_[A-Z0-9_]*[[:space:]]*\([[:space:]]*("Authsvc[A-Za-z0-9]*"|[A-Za-z_][A-Za-z0-9_]*)' |
        sed -E 's/^AP_INIT_[A-Z0-9_]*[[:space:]]*\([[:space:]]*//' |
        while read -r tok; do
            case $tok in
            \"*) echo "$tok" | tr -d '"' ;;
            *)
                cat "$ROOT/mod_authsvc.c" "$ROOT"/src/*.c "$ROOT"/src/*.h 2>/dev/null |
                    sed -nE "s/^[[:space:]]*#[[:space:]]*define[[:space:]]+$tok[[:space:]]+\"(Authsvc[A-Za-z0-9]*)\".*/\\1/p" |
                    head -n 1
                ;;
            esac
        done | sort -u
}

# The lines of section "## $1" of directives.md, up to the next "#" or "##" heading
# (### subheadings belong to the section); headings inside ``` fences do not count.
section() {
    awk -v name="$1" '
        /^```/ { fence = !fence }
        !fence && /^##?[ \t]/ {
            if (insec) exit
            h = $0
            sub(/^##[ \t]+/, "", h)
            sub(/[ \t]+$/, "", h)
            if ($0 ~ /^##[ \t]/ && h == name) { insec = 1; found = 1; next }
        }
        insec { print }
        END { if (!found) exit 3 }
    ' "$DIRECTIVES_MD"
}

has_label() { # label, section text on stdin
    grep -qE "\*\*$1\*\*|^\|[[:space:]]*$1[[:space:]]*\||^#+[[:space:]]+$1([[:space:]]|$)"
}

# Routes: "{M_POST, "/auth/login"" -> "POST /auth/login".
routes() {
    tr '\n\t' '  ' <"$ROUTER" |
        grep -oE '\{[[:space:]]*M_[A-Z]+[[:space:]]*,[[:space:]]*"/[^"]*"' |
        sed -E 's/^\{[[:space:]]*M_([A-Z]+)[[:space:]]*,[[:space:]]*"([^"]*)"$/\1 \2/'
}

# "GET /users/*" -> an ERE matching "GET /users/{id}" (any {name}) and not a longer path.
route_regex() {
    printf '%s\n' "$1" | sed -E \
        -e 's/[].[\\^$+?(){}|]/\\&/g' \
        -e 's/\*/\\{[A-Za-z_][A-Za-z0-9_]*\\}/g' \
        -e 's/^/(^|[^A-Za-z])/' \
        -e 's/$/([^A-Za-z0-9_\/{}.-]|$)/'
}

DIRS=$(directives)
ROUTES=$(routes)
ndirs=$(printf '%s\n' "$DIRS" | grep -c . || true)
nroutes=$(printf '%s\n' "$ROUTES" | grep -c . || true)
OPENAPI_TAP=$(python3 "$ROOT/tools/dev/check-openapi.py" 2>&1)
nopenapi=$(printf '%s\n' "$OPENAPI_TAP" | grep -cE '^(not )?ok ' || true)
[ "$nopenapi" -gt 0 ] || nopenapi=1
echo "1..$((ndirs + nroutes + 3 + nopenapi))"

if [ "$ndirs" -gt 0 ] && [ -f "$DIRECTIVES_MD" ]; then
    ok "found $ndirs directives in the command table; $DIRECTIVES_MD exists"
else
    not_ok "found $ndirs directives in the command table; $DIRECTIVES_MD exists"
fi

for d in $DIRS; do
    text=$(section "$d" 2>/dev/null)
    if [ $? -ne 0 ]; then
        not_ok "$d: no '## $d' section in docs/directives.md"
        continue
    fi
    missing=""
    for l in $LABELS; do
        printf '%s\n' "$text" | has_label "$l" || missing="$missing $l"
    done
    if [ -n "$missing" ]; then
        not_ok "$d: its section lacks$missing"
    else
        ok "$d is documented"
    fi
done

stale=""
if [ -f "$DIRECTIVES_MD" ]; then
    for h in $(awk '/^```/ { f = !f } !f && /^##[ \t]+Authsvc[A-Za-z0-9]*[ \t]*$/ { print $2 }' "$DIRECTIVES_MD"); do
        printf '%s\n' "$DIRS" | grep -qx "$h" || stale="$stale $h"
    done
fi
if [ -n "$stale" ]; then
    not_ok "docs/directives.md documents directives the command table lacks:$stale"
else
    ok "docs/directives.md documents no unknown directive"
fi

if [ "$nroutes" -gt 0 ] && [ -f "$API_MD" ]; then
    ok "found $nroutes routes in src/router.c; $API_MD exists"
else
    not_ok "found $nroutes routes in src/router.c; $API_MD exists"
fi

NL='
'
oldifs=$IFS
IFS=$NL
for rt in $ROUTES; do
    IFS=$oldifs
    shown=$(printf '%s\n' "$rt" | sed 's/\*/{id}/g')
    if [ -f "$API_MD" ] && grep -qE "$(route_regex "$rt")" "$API_MD"; then
        ok "route $shown is in docs/api.md"
    else
        not_ok "route $shown is not in docs/api.md (write it as \"$shown\")"
    fi
done
IFS=$oldifs

# check-openapi.py's lines, renumbered; its diagnostics ("# ...") pass through.
if printf '%s\n' "$OPENAPI_TAP" | grep -qE '^(not )?ok '; then
    while IFS= read -r line; do
        case $line in
        "not ok "*) not_ok "openapi: $(printf '%s\n' "$line" | sed -E 's/^not ok [0-9]+ - //')" ;;
        "ok "*) ok "openapi: $(printf '%s\n' "$line" | sed -E 's/^ok [0-9]+ - //')" ;;
        "# "*" checks failed") ;;
        "#"*) printf '%s\n' "$line" ;;
        esac
    done <<EOF
$OPENAPI_TAP
EOF
else
    not_ok "openapi: tools/dev/check-openapi.py gave no result"
    printf '%s\n' "$OPENAPI_TAP" | sed 's/^/# /'
fi

if [ "$failed" -gt 0 ]; then
    echo "# $failed of $n checks failed: document them in docs/directives.md / docs/api.md / docs/openapi.yaml"
    exit 1
fi
exit 0
