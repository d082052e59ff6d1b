#!/usr/bin/env bash
# The release notes of one version: the body of its `## [X.Y.Z] - date` section of the changelog
# on stdin (Keep a Changelog). Fails when the section is missing, empty, or still "Unreleased",
# so a release never goes out with no notes or the wrong ones. Used by the Release workflow:
#   bash scripts/release-notes.sh 1.2.3 < CHANGELOG.md > notes.md
set -euo pipefail
version=${1:?usage: release-notes.sh X.Y.Z < CHANGELOG.md}
version=${version#v}
notes=$(awk -v heading="## [$version]" '
  /^## / {
    if (found) exit
    if (index($0, heading) == 1) {
      found = 1
      if ($0 ~ /Unreleased/) { print "UNRELEASED"; exit }
      next
    }
  }
  found { print }
')
if [ "$notes" = UNRELEASED ]; then
  echo "CHANGELOG.md: the '## [$version]' section is still marked Unreleased: give it its date." >&2
  exit 1
fi
# Trim the blank lines around the section.
notes=$(sed -e '/./,$!d' <<<"$notes")
if [ -z "$notes" ]; then
  echo "CHANGELOG.md has no '## [$version] - <date>' section with notes: add one." >&2
  exit 1
fi
printf '%s\n' "$notes"
