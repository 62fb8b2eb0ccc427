"""RFC 3161 trusted timestamps of checkpoints (client: ``rfc3161-client``, Trail of Bits).

Each new checkpoint's text (origin, size, root: the three lines every signature covers) is sent to every
time-stamping authority in ``AUDIT_TSA_URLS``; the answer is verified at once against the roots in
``AUDIT_TSA_ROOTS_FILE`` (chain at genTime, nonce, message imprint, critical timeStamping EKU) and stored
beside the checkpoint. Verifiers check the token again and that the checkpoint's time is not later than the
token's genTime (audit.verify_export). A failing authority is logged and does not block the checkpoint.
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from accounts.scoping import tenant_scope

logger = logging.getLogger("portcullis.audit")


def roots() -> list[bytes]:
    """The trusted TSA root certificates (PEM bytes), from AUDIT_TSA_ROOTS_FILE."""
    from audit.verify_export import split_pem

    path = settings.AUDIT_TSA_ROOTS_FILE
    return split_pem(Path(path).read_bytes()) if path else []


def request_token(url: str, message: bytes) -> bytes:
    """A verified time-stamp response (DER) for ``message`` from the authority at ``url``; raises on failure."""
    from cryptography import x509
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, VerifierBuilder, decode_timestamp_response

    request = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    http = urllib.request.Request(
        url, data=request.as_bytes(), method="POST", headers={"Content-Type": "application/timestamp-query"}
    )
    with urllib.request.urlopen(http, timeout=settings.AUDIT_WITNESS_TIMEOUT_SECONDS) as answer:  # noqa: S310
        data = answer.read(1 << 20)
    response = decode_timestamp_response(data)
    builder = VerifierBuilder.from_request(request)
    for pem in roots():
        builder = builder.add_root_certificate(x509.load_pem_x509_certificate(pem))
    builder.build().verify_message(response, message)  # raises VerificationError
    return data


def stamp(tenant, checkpoint) -> list:
    """Timestamp ``checkpoint`` by every configured authority; returns the stored Timestamps."""
    from rfc3161_client import decode_timestamp_response

    from audit.models import Timestamp

    made = []
    text = checkpoint.note[: checkpoint.note.index("\n\n") + 1].encode("utf-8")
    for url in settings.AUDIT_TSA_URLS:
        try:
            data = request_token(url, text)
        except Exception as exc:  # noqa: BLE001  (an authority down or lying must not stop the checkpoint)
            logger.error("audit timestamp failed tenant=%s index=%s tsa=%s: %s", tenant.pk, checkpoint.index, url, exc)
            continue
        gen_time = decode_timestamp_response(data).tst_info.gen_time
        with tenant_scope(tenant):
            made.append(
                Timestamp.objects.create(
                    tenant=tenant,
                    checkpoint=checkpoint,
                    authority=url,
                    token=base64.b64encode(data).decode(),
                    gen_time=gen_time,
                )
            )
    return made
