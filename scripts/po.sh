#!/usr/bin/env bash
# po.sh: the message catalogues (po/, src/util/i18n.h).
#
#   scripts/po.sh update   extract every text marked in src/ (_(), N_(), n_(), sam_fail,
#                          sam_fail_field) into po/samtale.pot and merge it into po/*.po;
#                          new texts arrive untranslated, changed ones fuzzy
#   scripts/po.sh check    fail unless every catalogue translates every text of the code,
#                          has no fuzzy entry, and passes msgfmt --check (same printf
#                          conversions as the English, well-formed header and plurals)
#
# Translators edit po/LANG.po with any gettext tool (Poedit, Lokalize, a text editor).
set -euo pipefail
cd "$(dirname "$0")/.."

extract() {
    # A stable file order and no line numbers, so a change in the code moves no entries.
    find src -name '*.c' | LC_ALL=C sort | xgettext --from-code=UTF-8 --language=C --files-from=- \
        --keyword=_ --keyword=N_ --keyword=n_:1,2 --keyword=sam_fail:2 --keyword=sam_fail_field:3 \
        --keyword=channel_result_set:3 --keyword=channel_result_say:2 \
        --flag=channel_result_set:3:c-format --flag=channel_result_say:2:c-format \
        --flag=sam_fail:2:c-format --flag=sam_fail_field:3:c-format --flag=_:1:pass-c-format \
        --flag=n_:1:pass-c-format --flag=n_:2:pass-c-format \
        --add-comments=TRANSLATORS: --add-location=file --sort-by-file \
        --package-name=samtale --msgid-bugs-address=samtale --copyright-holder= -o "$1"
}

case ${1:-} in
update)
    extract po/samtale.pot
    for po in po/*.po; do
        msgmerge --quiet --update --backup=none --add-location=file "$po" po/samtale.pot
    done
    ;;
check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    extract "$tmp/samtale.pot"
    fail=0
    for po in po/*.po; do
        lang=$(basename "$po" .po)
        msgmerge --quiet --add-location=file -o "$tmp/$lang.po" "$po" "$tmp/samtale.pot"
        if ! msgfmt --check --statistics -o /dev/null "$tmp/$lang.po" 2>"$tmp/$lang.stat"; then
            cat "$tmp/$lang.stat"; fail=1; continue
        fi
        if grep -Eq 'fuzzy|untranslated' "$tmp/$lang.stat"; then
            echo "po: $lang: $(cat "$tmp/$lang.stat")"
            msgattrib --untranslated --only-fuzzy "$tmp/$lang.po" 2>/dev/null | grep '^msgid' | head -20
            msgattrib --untranslated "$tmp/$lang.po" | grep -A1 '^msgid' | head -40
            fail=1
        else
            echo "po: $lang: $(cat "$tmp/$lang.stat")"
        fi
        if ! cmp -s <(msgattrib --no-obsolete "$po" | grep -c '^msgid') <(grep -c '^msgid' "$tmp/$lang.po"); then
            echo "po: $lang: the catalogue is not current with the code; run scripts/po.sh update"
            fail=1
        fi
    done
    exit $fail
    ;;
*)
    echo "usage: scripts/po.sh update|check" >&2
    exit 2
    ;;
esac
