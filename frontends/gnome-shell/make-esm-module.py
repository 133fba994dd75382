#!/usr/bin/env python3
"""make-esm-module.py IN OUT — the ES-module form (GNOME Shell 45+) of one of
the applet's shared modules: the same text, with an `export {...};` line for
the names its `/* exported ... */` comment lists (the comment the legacy
loader and eslint already read). The shared modules import nothing, so this
is the only difference between the two builds."""

import re
import sys


def main():
    source, output = sys.argv[1:3]
    with open(source, encoding='utf-8') as f:
        text = f.read()
    exported = re.findall(r'^/\* exported ([\w, ]+) \*/$', text, re.MULTILINE)
    names = [n for line in exported for n in re.split(r'[\s,]+', line) if n]
    if not names:
        sys.exit(f'{source}: no "/* exported NAME */" comment: nothing to export')
    if re.search(r'^\s*(import|export)\b', text, re.MULTILINE):
        sys.exit(f'{source}: a shared module must not import or export itself')
    with open(output, 'w', encoding='utf-8') as f:
        f.write(f'// Generated from {source.rsplit("/", 1)[-1]} by make-esm-module.py: edit that file.\n')
        f.write(text)
        f.write(f'\nexport {{{", ".join(names)}}};\n')


if __name__ == '__main__':
    main()
