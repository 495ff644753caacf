//! `soap:Fault`: the fault code resolved through its prefix, and the typed details of the 1.3
//! faults schema.

use crate::envelope::fault::{Fault, FaultDetail, SignatureFaultReason, SoapFaultCode, ValidationError};
use crate::envelope::{EnvelopeError, FAULTS_NS, SOAP_ENV_NS};
use crate::xml::NodeId;

use super::{NO_NS, Parser, Result, trim_xml};

impl<'d> Parser<'d> {
    pub(super) fn fault(&self, id: NodeId) -> Result<Fault> {
        let mut seq = self.seq(id, "Fault")?;
        let code = seq.req(NO_NS, "faultcode")?;
        let string = seq.req(NO_NS, "faultstring")?;
        let _actor = seq.opt(NO_NS, "faultactor");
        let detail = seq.opt(NO_NS, "detail");
        seq.end()?;
        let code_text = self.text(code, "faultcode")?;
        let code_text = trim_xml(&code_text);
        let (prefix, local) = match code_text.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, code_text),
        };
        let soap_code = match self.resolve_prefix(code, prefix).as_deref() {
            Some(SOAP_ENV_NS) => SoapFaultCode::from_soap_local_name(local),
            _ => None,
        };
        let detail = match detail {
            None => FaultDetail::Unrecognized(None),
            Some(d) => self.fault_detail(d)?,
        };
        Ok(Fault {
            code: soap_code.unwrap_or_else(|| SoapFaultCode::Other(code_text.to_owned())),
            string: self.text(string, "faultstring")?,
            detail,
        })
    }

    /// The namespace bound to `prefix` at `id`.
    fn resolve_prefix(&self, id: NodeId, prefix: Option<&str>) -> Option<String> {
        let own = self
            .doc
            .element(id)
            .map(|e| e.ns_decls.clone())
            .unwrap_or_default();
        own.into_iter()
            .chain(self.doc.inherited_namespaces(id))
            .find(|d| d.prefix.as_deref() == prefix)
            .map(|d| d.uri)
    }

    fn fault_detail(&self, detail: NodeId) -> Result<FaultDetail> {
        // `detail` may hold anything (SOAP 1.1): only a lone element of the faults namespace
        // that the schema defines is typed; everything else is kept verbatim.
        let Some(el_id) = self.doc.child_elements(detail).next() else {
            return Ok(FaultDetail::Unrecognized(None));
        };
        let Some(el) = self
            .doc
            .element(el_id)
            .filter(|e| e.ns.as_deref() == Some(FAULTS_NS))
        else {
            return Ok(FaultDetail::Unrecognized(Some(self.doc.extract(el_id))));
        };
        use FaultDetail as D;
        let void = |d: FaultDetail| -> Result<FaultDetail> {
            self.seq(el_id, "fault detail")?.end()?;
            Ok(d)
        };
        let mut seq = self.seq(el_id, "fault detail")?;
        let detail = match el.local.as_str() {
            "AccessDenied" => return void(D::AccessDenied),
            "AttachmentContentMiscoordination" => return void(D::AttachmentContentMiscoordination),
            "IncorrectResponseContentType" => return void(D::IncorrectResponseContentType),
            "InvalidMessageIdFormat" => return void(D::InvalidMessageIdFormat),
            "MessageIsAlreadySent" => return void(D::MessageIsAlreadySent),
            "RecipientIsNotFound" => return void(D::RecipientIsNotFound),
            "RequestIsNotFound" => return void(D::RequestIsNotFound),
            "SenderIsNotRegistered" => return void(D::SenderIsNotRegistered),
            "SMEVFailure" => return void(D::SmevFailure),
            "StaleMessageId" => return void(D::StaleMessageId),
            "TargetMessageIsNotFound" => return void(D::TargetMessageIsNotFound),
            "UnknownMessageType" => return void(D::UnknownMessageType),
            "EndOfLifeReached" => D::EndOfLifeReached(self.fault_info(&mut seq)?),
            "PersonalAccessDenied" => D::PersonalAccessDenied(self.fault_info(&mut seq)?),
            "TransactionCodeInvalid" => D::TransactionCodeInvalid(self.fault_info(&mut seq)?),
            "AttachmentSizeLimitExceeded" => {
                let info = self.fault_info(&mut seq)?;
                let permitted = seq.req(FAULTS_NS, "PermittedTotalAttachmentSize")?;
                let real = seq.req(FAULTS_NS, "RealTotalAttachmentSize")?;
                D::AttachmentSizeLimitExceeded {
                    info,
                    permitted_total_attachment_size: self.int(
                        permitted,
                        "PermittedTotalAttachmentSize",
                        "an xs:long",
                    )?,
                    real_total_attachment_size: self.int(real, "RealTotalAttachmentSize", "an xs:long")?,
                }
            }
            "QuoteLimitExceeded" => {
                let info = self.fault_info(&mut seq)?;
                let remained = seq.req(FAULTS_NS, "RemainedTotalQuoteSize")?;
                let real = seq.req(FAULTS_NS, "RealTotalAttachmentSize")?;
                D::QuoteLimitExceeded {
                    info,
                    remained_total_quote_size: self.int(remained, "RemainedTotalQuoteSize", "an xs:long")?,
                    real_total_attachment_size: self.int(real, "RealTotalAttachmentSize", "an xs:long")?,
                }
            }
            "BusinessDataTypeIsNotSupported" => {
                let info = self.fault_info(&mut seq)?;
                let local = seq.req(FAULTS_NS, "RootElementLocalName")?;
                let ns = seq.req(FAULTS_NS, "RootElementNamespaceURI")?;
                D::BusinessDataTypeIsNotSupported {
                    info,
                    root_element_local_name: self.text(local, "RootElementLocalName")?,
                    root_element_namespace_uri: self.text(ns, "RootElementNamespaceURI")?,
                }
            }
            "DestinationOverflow" => {
                let info = self.fault_info(&mut seq)?;
                let broker = seq.req(FAULTS_NS, "MessageBrokerAddress")?;
                let destination = seq.req(FAULTS_NS, "DestinationName")?;
                D::DestinationOverflow {
                    info,
                    message_broker_address: self.text(broker, "MessageBrokerAddress")?,
                    destination_name: self.text(destination, "DestinationName")?,
                }
            }
            "InvalidContent" => {
                let info = self.fault_info(&mut seq)?;
                let items = seq.some(FAULTS_NS, "ValidationError")?;
                let mut errors = Vec::with_capacity(items.len());
                for e in items {
                    let position = self
                        .attr(e, "errorPosition")
                        .ok_or(EnvelopeError::MissingAttribute {
                            element: "ValidationError",
                            attribute: "errorPosition",
                            position: self.pos(e),
                        })?;
                    errors.push(ValidationError {
                        position: trim_xml(&position).parse().map_err(|_| {
                            self.invalid(e, "ValidationError/@errorPosition", &position, "an xs:int")
                        })?,
                        message: self.text(e, "ValidationError")?,
                    });
                }
                D::InvalidContent { info, errors }
            }
            "SignatureVerificationFault" => {
                let info = self.fault_info(&mut seq)?;
                let reason = seq.req(FAULTS_NS, "SignatureVerificationFault")?;
                let text = self.text(reason, "SignatureVerificationFault")?;
                D::SignatureVerificationFault {
                    info,
                    reason: SignatureFaultReason::from_wire(&text).ok_or_else(|| {
                        self.invalid(
                            reason,
                            "SignatureVerificationFault",
                            &text,
                            "a signature fault reason",
                        )
                    })?,
                }
            }
            _ => return Ok(FaultDetail::Unrecognized(Some(self.doc.extract(el_id)))),
        };
        seq.end()?;
        Ok(detail)
    }
}
