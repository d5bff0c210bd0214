#!/usr/bin/env bash
# Vendor the front-end files from the npm registry (pinned versions, checked by SHA-256).
#
# Nothing is loaded from a CDN at run time: the pages serve these copies from /static/vendor.
# Run from anywhere: `scripts/vendor.sh` (re)creates src/yilian/web/static/vendor/<name>-<version>/
# and fails if a file differs from the checksum recorded below. To upgrade a package, change its
# version here, run with UPDATE_CHECKSUMS=1, review the diff and the licence, and update
# src/yilian/web/static/vendor/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/src/yilian/web/static/vendor"

# package@version | directory | files to keep (path inside the package)
PACKAGES=(
  "htmx.org@2.0.11|htmx.org-2.0.11|dist/htmx.min.js LICENSE"
  "@picocss/pico@2.1.1|pico-2.1.1|css/pico.min.css LICENSE.md"
  "swagger-ui-dist@5.35.0|swagger-ui-dist-5.35.0|swagger-ui.css swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt LICENSE NOTICE"
  "echarts@6.1.0|echarts-6.1.0|dist/echarts.min.js LICENSE NOTICE licenses/LICENSE-d3"
)

# sha256 of every kept file, as vendored (directory/basename).
CHECKSUMS="
634293835b43a6dd2094fa39182a3d9a6b9ca43b7fdb9ac354e8037af2a3093a  ./echarts-6.1.0/LICENSE
e1211892da0b0e0585b7aebe8f98c1274fba15bafe47fa1f4ee8a7a502c06304  ./echarts-6.1.0/LICENSE-d3
d491d358344f842685c1b1585970999db65fe30ecf7ef3867af8814f4016c016  ./echarts-6.1.0/NOTICE
b66b25aeb4df84e33199dc21694014d336d222cbd9deb0e5a7c14bd6aa0d0fd0  ./echarts-6.1.0/echarts.min.js
d3d2456f76414f2456104660ebd65aff1c04cd7966b942bdabd63f3cdb316a38  ./htmx.org-2.0.11/LICENSE
d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717  ./htmx.org-2.0.11/htmx.min.js
afaff063e044233f917b7807dccab022f09dca474f92b642846bee4850655bbf  ./pico-2.1.1/LICENSE.md
fbc9a63fc9fc9f72d12fd7fc9806e11fa9f77ae4f9cad146b27003a1119ba3db  ./pico-2.1.1/pico.min.css
cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30  ./swagger-ui-dist-5.35.0/LICENSE
0d20d1adef18aee3f40dd258172155521ce702ac445cb5f7b7d60ed32dad2fb2  ./swagger-ui-dist-5.35.0/NOTICE
e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2  ./swagger-ui-dist-5.35.0/swagger-ui-bundle.js
37eb6e7e59aed57b2c1acf076574b818ea07b74265717e0bd67b59e0baf9abbb  ./swagger-ui-dist-5.35.0/swagger-ui-bundle.js.LICENSE.txt
5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d  ./swagger-ui-dist-5.35.0/swagger-ui.css
"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r spec dir files <<<"$entry"
  echo "vendoring $spec -> vendor/$dir"
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tarball="$(ls -t "$work"/*.tgz | head -n 1)"
  mkdir -p "$work/x"
  tar -xzf "$tarball" -C "$work/x"
  rm -rf "${VENDOR:?}/$dir"
  mkdir -p "$VENDOR/$dir"
  for file in $files; do
    cp "$work/x/package/$file" "$VENDOR/$dir/$(basename "$file")"
  done
  rm -rf "$work/x" "$tarball"
done

cd "$VENDOR"
if [[ "${UPDATE_CHECKSUMS:-0}" == 1 ]]; then
  find . -mindepth 2 -type f | sort | xargs sha256sum
  exit 0
fi
sha256sum --check --quiet <<<"$CHECKSUMS"
echo "vendored files match their checksums"
