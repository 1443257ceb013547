"""Verifies a Tender webhook delivery. Python 3, standard library only."""
import hashlib
import hmac
import os
import re
import sys
import time

# Deliveries signed longer ago than this are refused, so a captured request cannot be replayed.
TOLERANCE_SECONDS = 300


def verify_tender_signature(raw_body, header, secret, tolerance_seconds=TOLERANCE_SECONDS, now=None):
    """True when `header` (the Tender-Signature request header, t=<unix seconds>,v1=<hex>) is a valid
    signature of `raw_body` (bytes, exactly as received, never re-serialised JSON) under `secret`
    (the endpoint's whsec_... secret) and is not too old."""
    if not isinstance(header, str):
        return False
    timestamp, signatures = None, []
    for part in header.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not re.fullmatch(r"[0-9]{1,12}", timestamp) or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw_body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected.encode("ascii"), s.lower().encode("utf-8")) for s in signatures)


# Command line: TENDER_WEBHOOK_SECRET=whsec_... python3 verify.py '<Tender-Signature>' < body.json
if __name__ == "__main__":
    ok = verify_tender_signature(sys.stdin.buffer.read(), sys.argv[1], os.environ.get("TENDER_WEBHOOK_SECRET", ""))
    print("valid" if ok else "invalid")
    sys.exit(0 if ok else 1)
