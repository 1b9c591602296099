#!/usr/bin/env bash
# Builds the one-folder app: renders the icons, then runs PyInstaller on packaging/ofa-manager.spec.
#
#   packaging/build.sh [--distpath DIR] [--workpath DIR]
#
# The app lands in DIR/ofa-manager (default dist/ofa-manager); PyInstaller's scratch files go to the
# work path (default build/pyinstaller). OFA_DIST_DIR and OFA_WORK_DIR set the same two folders, and
# PYTHON names the interpreter that has PyInstaller and the app's dependencies (default python3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="${OFA_DIST_DIR:-$root/dist}"
work="${OFA_WORK_DIR:-$root/build/pyinstaller}"
python="${PYTHON:-python3}"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --distpath) dist="$2"; shift 2 ;;
        --workpath) work="$2"; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

cd "$root"
started=$(date +%s)

"$python" packaging/make_icons.py
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" packaging/ofa-manager.spec

app="$dist/ofa-manager"
case "$(uname -s)" in
    MINGW*|MSYS*|CYGWIN*) executable="$app/ofa-manager.exe" ;;
    *) executable="$app/ofa-manager" ;;
esac
if [[ ! -x "$executable" ]]; then
    echo "build.sh: PyInstaller finished but $executable is missing" >&2
    exit 1
fi

elapsed=$(( $(date +%s) - started ))
echo "built $executable"
echo "bundle size: $(du -sh "$app" | cut -f1)"
echo "build time: ${elapsed}s"
