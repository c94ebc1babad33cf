"""PAdES signatures: what the signed attributes carry, and that the pre-encoded signing-certificate attribute
is the one of the certificate in use (a fast path must not sign with a stale or wrong certificate reference)."""
import hashlib
import io

from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

from app.documents.render import render_pdf
from app.documents.signing import _signer, check_signature, sign_pdf

HTML = "<html lang='en'><body><h1>Award letter 中標通知書</h1><p>Signed test letter.</p></body></html>"


def _signed_attributes(pdf: bytes) -> dict:
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    signer_info = signature.signed_data["signer_infos"][0]
    return {attr["type"].native: attr["values"] for attr in signer_info["signed_attrs"]}


def test_signature_carries_pades_attributes_of_the_current_certificate(app):
    with app.app_context():
        pdf = render_pdf(HTML)
        signed = sign_pdf(pdf, reason="Issued")
        check = check_signature(signed)
        assert check.is_signed_original, check
        attrs = _signed_attributes(signed)
        # PAdES baseline B: content type, message digest, signing-certificate-v2; no signing time in the CMS
        assert set(attrs) == {"content_type", "message_digest", "signing_certificate_v2"}
        cert = _signer().signing_cert
        ess = attrs["signing_certificate_v2"][0]["certs"][0]
        assert ess["cert_hash"].native == hashlib.sha256(cert.dump()).digest()
        assert ess["issuer_serial"]["serial_number"].native == cert.serial_number
        # the message digest is of this document's byte ranges: two signatures of two documents differ
        other = sign_pdf(render_pdf(HTML.replace("Signed test letter", "Another letter")), reason="Issued")
        assert _signed_attributes(other)["message_digest"][0].native != attrs["message_digest"][0].native
        assert isinstance(PdfFileReader(io.BytesIO(signed)).embedded_signatures[-1].signed_data, cms.SignedData)


def test_a_changed_byte_breaks_the_signature(app):
    with app.app_context():
        signed = bytearray(sign_pdf(render_pdf(HTML), reason="Issued"))
        signed[len(signed) // 4] ^= 0x01
        assert not check_signature(bytes(signed)).is_signed_original
