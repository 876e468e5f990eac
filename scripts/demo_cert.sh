#!/usr/bin/env bash
# The demo's own certificate for HTTPS on the local network (`make demo-https`): phones give a web app
# a service worker and GPS only in a secure context, which plain http on a LAN address is not.
#
# Makes, once, under var/tls/: a small certificate authority (gridgis-demo-ca.crt, the file to trust on
# the phone) and a server certificate signed by it for localhost and this machine's addresses (again
# whenever the addresses change). Nothing leaves the machine; the CA's key stays in var/tls/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=var/tls
mkdir -p "$dir"
chmod 700 "$dir"

if [[ ! -s $dir/gridgis-demo-ca.key ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 \
    -keyout "$dir/gridgis-demo-ca.key" -out "$dir/gridgis-demo-ca.crt" \
    -subj "/CN=gridgis demo CA (this machine only)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "demo-cert: made the demo CA $dir/gridgis-demo-ca.crt (trust this file on the phone)"
fi

# localhost, the host name, and every IPv4 address of this machine (DEMO_HOSTS adds more, e.g. a name).
names="DNS:localhost,DNS:$(hostname),IP:127.0.0.1"
for address in $(hostname -I 2>/dev/null || true) ${DEMO_HOSTS:-}; do
  if [[ $address =~ ^[0-9.]+$ ]]; then names+=",IP:$address"; elif [[ $address != *:* ]]; then names+=",DNS:$address"; fi
done
if [[ ! -s $dir/gridgis-demo.crt ]] || [[ "$(cat "$dir/names" 2>/dev/null)" != "$names" ]]; then
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$dir/gridgis-demo.key" -out "$dir/gridgis-demo.csr" \
    -subj "/CN=gridgis demo" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$names" > "$dir/ext.cnf"
  # 397 days at most: phones refuse server certificates valid for longer.
  openssl x509 -req -in "$dir/gridgis-demo.csr" -CA "$dir/gridgis-demo-ca.crt" -CAkey "$dir/gridgis-demo-ca.key" \
    -CAcreateserial -days 397 -sha256 -extfile "$dir/ext.cnf" -out "$dir/gridgis-demo.crt" 2>/dev/null
  echo "$names" > "$dir/names"
  echo "demo-cert: made $dir/gridgis-demo.crt for $names"
fi
