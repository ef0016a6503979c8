# Sourced by ./run and ./run-tests: make .venv with the project installed (once; again when
# pyproject.toml changes). Usage: bootstrap "" | bootstrap "test"
bootstrap() {
    local extras="$1" py="" stamp
    for cand in python3.12 python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
           "$cand" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null; then
            py="$cand"; break
        fi
    done
    if [ -z "$py" ]; then
        echo "astp: error: Python 3.11, 3.12 or 3.13 is needed; install one (e.g. apt-get install python3 python3-venv)" >&2
        exit 2
    fi
    stamp=".venv/.installed-${extras:-base}"
    if [ ! -x .venv/bin/python ]; then
        "$py" -m venv .venv || { echo "astp: error: could not create .venv; install python3-venv" >&2; exit 2; }
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "Setting up .venv (first run only) ..." >&2
        .venv/bin/python -m pip install --quiet --upgrade pip >&2
        if [ -n "$extras" ]; then
            .venv/bin/python -m pip install --quiet -e ".[$extras]" >&2
        else
            .venv/bin/python -m pip install --quiet -e . >&2
        fi
        touch "$stamp"
    fi
}
