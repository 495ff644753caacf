#!/usr/bin/env python3
"""An independent SMEV 3 (message exchange 1.3) consumer, for RSMEV's interoperability test.

SOAP comes from zeep, built from the node's WSDL; the caller signature (ЭП-ОВ) from signxml:
a detached XMLDSig over the operation's signed element (Reference URI="#SIGNED_BY_CONSUMER",
exclusive c14n, ECDSA-SHA256 or RSA-SHA256 by the key, the certificate in KeyInfo), placed in
CallerInformationSystemSignature by a zeep egress plugin. Nothing here comes from RSMEV.

The client sends the business document as a SendRequest, polls GetResponse until the response to
that request arrives, Acks it, and prints one JSON object on stdout:

    {"request_message_id": "...", "send_request": {...}, "response": {...}, "ack": true}

On a SOAP fault or a timeout it prints {"error": "..."} and exits with status 1.

Usage: smev_client.py --wsdl URL --key KEY.pem --cert CERT.pem --payload FILE [--timeout SECS]

Requirements (a virtual environment): pip install zeep==4.3.3 signxml==5.2.0
"""

import argparse
import datetime
import json
import sys
import time
import uuid

import signxml
import zeep
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod, XMLSigner
from zeep.plugins import HistoryPlugin, Plugin

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TYPES = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3"
BASIC = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3"
SIGNED_ID = "SIGNED_BY_CONSUMER"

# The element each operation's caller signature covers (NOTES §3).
SIGNED_ELEMENT = {
    "SendRequestRequest": (TYPES, "SenderProvidedRequestData"),
    "SendResponseRequest": (TYPES, "SenderProvidedResponseData"),
    "GetRequestRequest": (BASIC, "MessageTypeSelector"),
    "GetResponseRequest": (BASIC, "MessageTypeSelector"),
    "GetStatusRequest": (BASIC, "Timestamp"),
    "AckRequest": (BASIC, "AckTargetMessage"),
}


class CallerSignature(Plugin):
    """Signs the operation's element and puts the signature in CallerInformationSystemSignature."""

    def __init__(self, key_pem: bytes, cert_pem: bytes):
        self.key_pem = key_pem
        self.cert_pem = cert_pem
        key = serialization.load_pem_private_key(key_pem, password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            self.algorithm = SignatureMethod.ECDSA_SHA256
        elif isinstance(key, rsa.RSAPrivateKey):
            self.algorithm = SignatureMethod.RSA_SHA256
        else:
            raise ValueError(f"unsupported key type {type(key).__name__}")

    def egress(self, envelope, http_headers, operation, binding_options):
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        op = body[0]
        ns, local = SIGNED_ELEMENT[etree.QName(op).localname]
        target = op.find(f"{{{ns}}}{local}")
        if target is None:
            raise ValueError(f"{etree.QName(op).localname} has no {local} to sign")
        target.set("Id", SIGNED_ID)
        signer = XMLSigner(
            method=signxml.methods.detached,
            signature_algorithm=self.algorithm,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signature = signer.sign(
            envelope,
            key=self.key_pem,
            cert=self.cert_pem.decode("ascii"),
            reference_uri=f"#{SIGNED_ID}",
        )
        container = etree.Element(f"{{{TYPES}}}CallerInformationSystemSignature")
        container.append(signature)
        # Schema order: the signed element, AttachmentContentList?, then the signature.
        anchor = target
        following = target.getnext()
        if following is not None and etree.QName(following).localname == "AttachmentContentList":
            anchor = following
        anchor.addnext(container)
        return envelope, http_headers


def text_of(element, *path):
    """Text of the first descendant at the local-name path, or None."""
    node = element
    for name in path:
        node = next((c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name), None)
        if node is None:
            return None
    return node.text


def child(element, name):
    return next((c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name), None)


def last_body(history: HistoryPlugin):
    """The operation element of the last envelope received."""
    envelope = history.last_received["envelope"]
    return envelope.find(f"{{{SOAP_ENV}}}Body")[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wsdl", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--payload", required=True, help="file holding the business document")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    with open(args.key, "rb") as f:
        key_pem = f.read()
    with open(args.cert, "rb") as f:
        cert_pem = f.read()
    with open(args.payload, "rb") as f:
        payload = etree.fromstring(f.read())

    history = HistoryPlugin()
    client = zeep.Client(args.wsdl, plugins=[CallerSignature(key_pem, cert_pem), history])
    now = lambda: datetime.datetime.now(datetime.timezone.utc)  # noqa: E731

    # A time-based (version 1) MessageID, lower-case, as SMEV requires.
    message_id = str(uuid.uuid1())
    result = {"request_message_id": message_id}
    try:
        client.service.SendRequest(
            SenderProvidedRequestData={
                "Id": SIGNED_ID,
                "MessageID": message_id,
                "MessagePrimaryContent": {"_value_1": payload},
            }
        )
        metadata = child(last_body(history), "MessageMetadata")
        result["send_request"] = {
            "message_id": text_of(metadata, "MessageId"),
            "message_type": text_of(metadata, "MessageType"),
            "recipient": text_of(metadata, "Recipient", "Mnemonic"),
            "status": text_of(metadata, "Status"),
        }

        deadline = time.monotonic() + args.timeout
        polls = 0
        while True:
            polls += 1
            # No type in the selector: any response. (zeep needs the optional NamespaceURI /
            # RootElementLocalName pair skipped explicitly.)
            selector = {
                "Id": SIGNED_ID,
                "NamespaceURI": zeep.xsd.SkipValue,
                "RootElementLocalName": zeep.xsd.SkipValue,
                "Timestamp": now(),
            }
            client.service.GetResponse(MessageTypeSelector=selector)
            message = child(last_body(history), "ResponseMessage")
            if message is not None:
                break
            if time.monotonic() > deadline:
                result["error"] = f"no response within {args.timeout} s ({polls} polls)"
                print(json.dumps(result, ensure_ascii=False))
                return 1
            time.sleep(0.2)

        response = child(message, "Response")
        data = child(response, "SenderProvidedResponseData")
        primary = child(data, "MessagePrimaryContent")
        content = next((c for c in primary if isinstance(c.tag, str)), None) if primary is not None else None
        metadata = child(response, "MessageMetadata")
        result["response"] = {
            "original_message_id": text_of(response, "OriginalMessageId"),
            "message_id": text_of(data, "MessageID"),
            "metadata_message_id": text_of(metadata, "MessageId"),
            "sender": text_of(metadata, "Sender", "Mnemonic"),
            "message_type": text_of(metadata, "MessageType"),
            "content_root": etree.QName(content).text if content is not None else None,
            "content": etree.tostring(content, encoding="unicode") if content is not None else None,
            "has_node_signature": child(message, "SMEVSignature") is not None,
        }
        result["polls"] = polls

        client.service.Ack(
            AckTargetMessage={
                "Id": SIGNED_ID,
                "accepted": True,
                "_value_1": result["response"]["metadata_message_id"],
            }
        )
        result["ack"] = etree.QName(last_body(history)).localname == "AckResponse"
    except zeep.exceptions.Fault as fault:
        detail = fault.detail[0] if fault.detail is not None and len(fault.detail) else None
        result["error"] = f"SOAP fault {etree.QName(detail).localname if detail is not None else '?'}: {fault.message}"
        print(json.dumps(result, ensure_ascii=False))
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
