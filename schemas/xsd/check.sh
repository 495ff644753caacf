#!/usr/bin/env bash
# Proves with xmllint that the RSMEV WSDL and XSDs in this folder define the same interface as the
# federal SMEV 3 message-exchange 1.3 WSDL/XSDs (read from $RSMEV_REFERENCE/smev3, never copied):
#
#   (a) every RSMEV XSD compiles, the WSDL is well-formed, every schemaLocation is a plain file
#       name in this folder, and each RSMEV XSD declares the same target namespace, form defaults,
#       imports and global element/type/attribute names as its official counterpart;
#   (b) the WSDL describes the same service: names, operations, soapActions, messages, parts,
#       faults, binding style/use and the optional MTOM policy (plus the RSMEV extension
#       operation GetIncomingQueueStatistics);
#   (c) every test message in testdata/ gets the same verdict from the official schema set and
#       from ours, and the verdict its name announces:
#         valid-*        valid under both          invalid-*      invalid under both
#         ext-valid-*    RSMEV extension: valid under ours (and, being unknown there, invalid
#         ext-invalid-*  under the official set) / invalid under both
#         diff-*         the single documented difference (README.md): valid under the
#                        official set, invalid under ours
#
# Usage: schemas/xsd/check.sh [-v]      (-v prints xmllint's messages for every test message)
# Env:   RSMEV_REFERENCE  folder holding smev3/ (default: <repo>/../shared/reference)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ref="${RSMEV_REFERENCE:-$root/../shared/reference}"
official="$ref/smev3"
verbose=0
[ "${1:-}" = "-v" ] && verbose=1

command -v xmllint >/dev/null || { echo "check.sh: xmllint not found (apt-get install libxml2-utils)" >&2; exit 2; }
[ -r "$official/smev-message-exchange-types-1.3.xsd" ] || {
  echo "check.sh: official SMEV 3 1.3 schemas not readable in $official (set RSMEV_REFERENCE)" >&2; exit 2; }

NS_TYPES="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3"
NS_FAULTS="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/faults/1.3"
EXT_OP="GetIncomingQueueStatistics"
EXT_ELEMENTS="GetIncomingQueueStatisticsRequest GetIncomingQueueStatisticsResponse"

# official file name -> ours
parts=(types basic faults routing directive)
off_xsd() { echo "$official/smev-message-exchange-$1-1.3.xsd"; }
our_xsd() { echo "$here/rsmev-message-exchange-$1-1.3.xsd"; }
off_wsdl="$official/smev-message-exchange-service-1.3.wsdl"
our_wsdl="$here/rsmev-message-exchange-1.3.wsdl"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
bad() {
  fail=$((fail + 1)); printf 'FAIL  %s\n' "$1"; shift
  local line; for line in "$@"; do printf '      %s\n' "$line"; done
}
section() { printf '\n== %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
section "(a) schemas compile, references are local, declarations match"

echo '<rsmev-compile-probe/>' > "$tmp/probe.xml"
compiles() { # schema -> 0 if it compiles without any parser message
  local out rc
  out="$(xmllint --noout --nonet --schema "$1" "$tmp/probe.xml" 2>&1)"; rc=$?
  out="$(printf '%s\n' "$out" | grep -v -e 'rsmev-compile-probe' -e 'fails to validate' || true)"
  [ "$rc" -eq 3 ] && [ -z "$out" ] && return 0
  printf '%s\n' "rc=$rc" "$out" >&2
  return 1
}

for p in "${parts[@]}"; do
  f="$(our_xsd "$p")"
  if [ ! -r "$f" ]; then bad "compile $(basename "$f")" "missing"; continue; fi
  if err="$(compiles "$f" 2>&1)"; then ok "compile $(basename "$f")"; else bad "compile $(basename "$f")" "$err"; fi
  if err="$(compiles "$(off_xsd "$p")" 2>&1)"; then :; else bad "compile official $p XSD" "$err"; fi
done

if err="$(xmllint --noout --nonet "$our_wsdl" 2>&1)"; then ok "well-formed $(basename "$our_wsdl")"
else bad "well-formed $(basename "$our_wsdl")" "$err"; fi

# Every schemaLocation must be a bare file name of this folder: the node serves each file at
# /ws?xsd=<name> and rewrites schemaLocation="<name>" to that URL.
for f in "$here"/rsmev-message-exchange-*.xsd "$our_wsdl"; do
  XS="namespace-uri()='http://www.w3.org/2001/XMLSchema'"
  locs="$(xmllint --xpath "//*[$XS and (local-name()='import' or local-name()='include' or local-name()='redefine')]/@schemaLocation" "$f" 2>/dev/null \
    | grep -o '"[^"]*"' | tr -d '"')"
  n_refs="$(xmllint --xpath "count(//*[$XS and (local-name()='import' or local-name()='include' or local-name()='redefine')])" "$f" 2>/dev/null)"
  problems=()
  for l in $locs; do
    if ! [[ "$l" =~ ^[A-Za-z0-9._-]+$ ]]; then problems+=("not a plain file name: $l")
    elif [ ! -r "$here/$l" ]; then problems+=("no such file here: $l"); fi
  done
  [ "$n_refs" -eq "$(printf '%s\n' $locs | grep -c . || true)" ] || problems+=("an import without schemaLocation")
  if [ ${#problems[@]} -eq 0 ]; then ok "local references $(basename "$f") ($n_refs)"; else bad "local references $(basename "$f")" "${problems[@]}"; fi
done

xs_names() { # file, xpath tail under xs:schema -> sorted values
  xmllint --xpath "$2" "$1" 2>/dev/null | grep -o '"[^"]*"' | tr -d '"' | sort
}
for p in "${parts[@]}"; do
  o="$(off_xsd "$p")"; r="$(our_xsd "$p")"
  [ -r "$r" ] || continue
  problems=()
  for a in targetNamespace elementFormDefault attributeFormDefault blockDefault finalDefault; do
    ov="$(xmllint --xpath "string(/*/@$a)" "$o" 2>/dev/null)"; rv="$(xmllint --xpath "string(/*/@$a)" "$r" 2>/dev/null)"
    [ "$ov" = "$rv" ] || problems+=("$a: official '$ov', ours '$rv'")
  done
  oi="$(xs_names "$o" "/*/*[local-name()='import']/@namespace")"
  ri="$(xs_names "$r" "/*/*[local-name()='import']/@namespace")"
  [ "$oi" = "$ri" ] || problems+=("imported namespaces differ: official [$(echo $oi)] ours [$(echo $ri)]")
  # Global declarations visible to instances: elements (wildcards, roots), types (xsi:type),
  # attributes. Named model/attribute groups are not visible and may differ.
  for kind in element complexType simpleType attribute; do
    on="$(xs_names "$o" "/*/*[local-name()='$kind']/@name")"
    rn="$(xs_names "$r" "/*/*[local-name()='$kind']/@name")"
    if [ "$p" = types ] && [ "$kind" = element ]; then
      rn="$(printf '%s\n' $rn | grep -vxF -f <(printf '%s\n' $EXT_ELEMENTS) || true)"
    fi
    d="$(diff <(printf '%s\n' $on) <(printf '%s\n' $rn) | grep '^[<>]' | sed 's/^</official only:/; s/^>/ours only:/' || true)"
    [ -z "$d" ] || problems+=("global ${kind}s differ:" "$d")
  done
  # no identity constraints, substitution groups, abstract/block/final in either
  for x in "$o" "$r"; do
    n="$(xmllint --xpath "count(//*[local-name()='unique' or local-name()='key' or local-name()='keyref' or @substitutionGroup or @abstract or @block or @final or @nillable or @fixed or @default or local-name()='redefine' or local-name()='include'])" "$x" 2>/dev/null)"
    [ "$n" = 0 ] || problems+=("$(basename "$x") uses constructs this check does not compare ($n)")
  done
  if [ ${#problems[@]} -eq 0 ]; then ok "declarations $p: same namespace, imports and global names"
  else bad "declarations $p" "${problems[@]}"; fi
done

# ---------------------------------------------------------------------------------------------
section "(b) WSDL: same service description"

xp() { xmllint --xpath "$2" "$1" 2>/dev/null; }
qn() { # file, xpath of element, attribute -> {namespace}local
  local v p l ns
  v="$(xp "$1" "string($2/@$3)")"
  case "$v" in *:*) p="${v%%:*}"; l="${v#*:}";; *) p=""; l="$v";; esac
  if [ -n "$p" ]; then ns="$(xp "$1" "string($2/namespace::*[name()='$p'])")"
  else ns="$(xp "$1" "string($2/namespace::*[name()=''])")"; fi
  printf '{%s}%s' "$ns" "$l"
}
W="*[local-name()='definitions']"
describe_wsdl() { # file -> normalized lines
  local f="$1" op fl fname msg ml
  printf 'targetNamespace %s\n' "$(xp "$f" "string(/$W/@targetNamespace)")"
  for s in $(xs_names "$f" "/$W/*[local-name()='service']/@name"); do
    local S="/$W/*[local-name()='service'][@name='$s']"
    for pn in $(xs_names "$f" "$S/*[local-name()='port']/@name"); do
      local P="$S/*[local-name()='port'][@name='$pn']"
      printf 'service %s port %s binding %s address %s\n' "$s" "$pn" "$(qn "$f" "$P" binding)" \
        "$(xp "$f" "count($P/*[local-name()='address' and namespace-uri()='http://schemas.xmlsoap.org/wsdl/soap/'])")"
    done
  done
  for b in $(xs_names "$f" "/$W/*[local-name()='binding']/@name"); do
    local B="/$W/*[local-name()='binding'][@name='$b']"
    printf 'binding %s type %s style %s transport %s policy %s\n' "$b" "$(qn "$f" "$B" type)" \
      "$(xp "$f" "string($B/*[local-name()='binding']/@style)")" \
      "$(xp "$f" "string($B/*[local-name()='binding']/@transport)")" \
      "$(xp "$f" "string($B/*[local-name()='PolicyReference']/@URI)")"
    for op in $(xs_names "$f" "$B/*[local-name()='operation']/@name"); do
      local O="$B/*[local-name()='operation'][@name='$op']"
      printf 'op %s soapAction %s style %s\n' "$op" "$(xp "$f" "string($O/*[local-name()='operation']/@soapAction)")" \
        "$(xp "$f" "string($O/*[local-name()='operation']/@style)")"
      for io in input output; do
        printf 'op %s binding-%s use %s parts %s\n' "$op" "$io" \
          "$(xp "$f" "string($O/*[local-name()='$io']/*[local-name()='body']/@use)")" \
          "$(xp "$f" "string($O/*[local-name()='$io']/*[local-name()='body']/@parts)")"
      done
      for fl in $(xs_names "$f" "$O/*[local-name()='fault']/@name"); do
        local F="$O/*[local-name()='fault'][@name='$fl']/*[local-name()='fault']"
        printf 'op %s binding-fault %s soap-fault %s use %s\n' "$op" "$fl" "$(xp "$f" "string($F/@name)")" "$(xp "$f" "string($F/@use)")"
      done
    done
  done
  for pt in $(xs_names "$f" "/$W/*[local-name()='portType']/@name"); do
    local T="/$W/*[local-name()='portType'][@name='$pt']"
    printf 'portType %s\n' "$pt"
    for op in $(xs_names "$f" "$T/*[local-name()='operation']/@name"); do
      local O="$T/*[local-name()='operation'][@name='$op']"
      for io in input output; do
        msg="$(qn "$f" "$O/*[local-name()='$io']" message)"; ml="${msg#*\}}"
        local M="/$W/*[local-name()='message'][@name='$ml']/*[local-name()='part']"
        printf 'op %s %s message %s part %s element %s\n' "$op" "$io" "$msg" "$(xp "$f" "string($M/@name)")" "$(qn "$f" "$M" element)"
      done
      for fname in $(xs_names "$f" "$O/*[local-name()='fault']/@name"); do
        msg="$(qn "$f" "$O/*[local-name()='fault'][@name='$fname']" message)"; ml="${msg#*\}}"
        local M="/$W/*[local-name()='message'][@name='$ml']/*[local-name()='part']"
        printf 'op %s fault %s message %s part %s element %s\n' "$op" "$fname" "$msg" "$(xp "$f" "string($M/@name)")" "$(qn "$f" "$M" element)"
      done
    done
  done
  printf 'mtom-policy %s optional %s\n' "$(xp "$f" "string(/$W/*[local-name()='Policy']/@*[local-name()='Id'])")" \
    "$(xp "$f" "string(/$W/*[local-name()='Policy']/*[local-name()='OptimizedMimeSerialization']/@*[local-name()='Optional'])")"
}
describe_wsdl "$off_wsdl" | sort > "$tmp/official.wsdl.txt"
describe_wsdl "$our_wsdl" | sort > "$tmp/ours.wsdl.txt"
grep -v "^op $EXT_OP " "$tmp/ours.wsdl.txt" > "$tmp/ours-core.wsdl.txt"
if d="$(diff "$tmp/official.wsdl.txt" "$tmp/ours-core.wsdl.txt")"; then
  ok "WSDL service description equals the official one ($(wc -l < "$tmp/official.wsdl.txt") facts)"
else
  bad "WSDL service description differs (< official, > ours)" "$d"
fi
ext_expected="$(cat <<EOF
op $EXT_OP binding-fault InvalidContentFault soap-fault InvalidContentFault use literal
op $EXT_OP binding-fault SMEVFailureFault soap-fault SMEVFailureFault use literal
op $EXT_OP binding-fault SenderIsNotRegisteredFault soap-fault SenderIsNotRegisteredFault use literal
op $EXT_OP binding-fault SignatureVerificationFaultFault soap-fault SignatureVerificationFaultFault use literal
op $EXT_OP binding-input use literal parts 
op $EXT_OP binding-output use literal parts 
op $EXT_OP fault InvalidContentFault message {urn://x-artefacts-smev-gov-ru/services/message-exchange/1.3}InvalidContentException part parameters element {$NS_FAULTS}InvalidContent
op $EXT_OP fault SMEVFailureFault message {urn://x-artefacts-smev-gov-ru/services/message-exchange/1.3}SMEVFailureException part parameters element {$NS_FAULTS}SMEVFailure
op $EXT_OP fault SenderIsNotRegisteredFault message {urn://x-artefacts-smev-gov-ru/services/message-exchange/1.3}SenderIsNotRegisteredException part parameters element {$NS_FAULTS}SenderIsNotRegistered
op $EXT_OP fault SignatureVerificationFaultFault message {urn://x-artefacts-smev-gov-ru/services/message-exchange/1.3}SignatureVerificationFaultException part parameters element {$NS_FAULTS}SignatureVerificationFault
op $EXT_OP input message {urn://x-artefacts-smev-gov-ru/services/message-exchange/1.3}${EXT_OP}RequestMsg part parameters element {$NS_TYPES}${EXT_OP}Request
op $EXT_OP output message {urn://x-artefacts-smev-gov-ru/services/message-exchange/1.3}${EXT_OP}ResponseMsg part parameters element {$NS_TYPES}${EXT_OP}Response
op $EXT_OP soapAction urn:$EXT_OP style 
EOF
)"
if d="$(diff <(printf '%s\n' "$ext_expected" | sort) <(grep "^op $EXT_OP " "$tmp/ours.wsdl.txt"))"; then
  ok "WSDL extension operation $EXT_OP (soapAction urn:$EXT_OP, 1.1 faults)"
else
  bad "WSDL extension operation $EXT_OP" "$d"
fi
addr="$(xp "$our_wsdl" "string(//*[local-name()='port']/*[local-name()='address']/@location)")"
if [ "$addr" = "http://localhost:7575/ws" ]; then ok "WSDL soap:address placeholder $addr"
else bad "WSDL soap:address placeholder" "expected http://localhost:7575/ws, found '$addr'"; fi

# ---------------------------------------------------------------------------------------------
section "(c) test messages: official verdict = RSMEV verdict = expected verdict"

# One schema per side importing what the WSDL imports (types, faults; they pull in the rest).
driver() { # out, types xsd, faults xsd
  cat > "$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="$NS_TYPES" schemaLocation="$2"/>
  <xs:import namespace="$NS_FAULTS" schemaLocation="$3"/>
</xs:schema>
EOF
}
driver "$tmp/official.xsd" "$(off_xsd types)" "$(off_xsd faults)"
driver "$tmp/ours.xsd" "$(our_xsd types)" "$(our_xsd faults)"

verdict() { # schema, instance, log -> valid | invalid | error(rc)
  local rc
  xmllint --noout --nonet --schema "$1" "$2" > "$3" 2>&1; rc=$?
  case "$rc" in 0) echo valid ;; 3 | 4) echo invalid ;; *) echo "error($rc)" ;; esac
}

n_messages=0
for t in "$here"/testdata/*.xml; do
  name="$(basename "$t")"
  n_messages=$((n_messages + 1))
  vo="$(verdict "$tmp/official.xsd" "$t" "$tmp/o.log")"
  vr="$(verdict "$tmp/ours.xsd" "$t" "$tmp/r.log")"
  case "$name" in
    valid-*) want_o=valid; want_r=valid ;;
    invalid-*) want_o=invalid; want_r=invalid ;;
    ext-valid-*) want_o=invalid; want_r=valid ;;
    ext-invalid-*) want_o=invalid; want_r=invalid ;;
    diff-*) want_o=valid; want_r=invalid ;;
    *) bad "$name" "name must start with valid-, invalid-, ext-valid-, ext-invalid- or diff-"; continue ;;
  esac
  if [ "$vo" = "$want_o" ] && [ "$vr" = "$want_r" ]; then
    ok "$name (official: $vo, ours: $vr)"
    if [ "$verbose" = 1 ]; then sed 's/^/        official: /' "$tmp/o.log"; sed 's/^/        ours:     /' "$tmp/r.log"; fi
  else
    bad "$name: official $vo (want $want_o), ours $vr (want $want_r)" \
      "official: $(grep -v 'validates$\|fails to validate$' "$tmp/o.log" | head -5)" \
      "ours:     $(grep -v 'validates$\|fails to validate$' "$tmp/r.log" | head -5)"
  fi
done

printf '\n%d test messages\n' "$n_messages"
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
