//! How an adapter signs what it sends as a participant (ЭП-ОВ): the blocks of its requests and
//! answers, its polls and its Acks, with its own key. The federal link and the GIS GMP module
//! both sign through this, towards this node's intake and towards an upstream alike.

use std::sync::Arc;

use crate::dsig::{self, Certificate, SignOptions, Signer, TransformChain, load_signer};
use crate::envelope::{
    AckRequest, AckTargetMessage, DateTime, Envelope, GetIncomingQueueStatisticsRequest, GetRequestRequest,
    GetResponseRequest, InfoTypeName, MessageId, MessageTypeSelector, Operation, Signed, Timestamp, XmlBlock,
    XmlSignature,
};
use crate::xml::{Document, Limits};

/// The `Id` an adapter gives the blocks it signs.
pub const SIGNED_ID: &str = "SIGNED_BY_CALLER";

/// Signing failed: the key or the text it was asked to sign. The message can be tried again
/// (a token may come back); nothing was sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SigningError(String);

/// The signer of an adapter's `key` and `cert` settings (PEM files: a PKCS#8 key and its
/// certificate); `section` names the settings in the errors (`[federal]`, `[gisgmp]`).
///
/// # Errors
/// A path is empty, a file unreadable, or not a key or certificate the node can sign with, named.
pub fn load_signer_files(section: &str, key: &str, cert: &str) -> Result<Arc<dyn Signer>, String> {
    if key.trim().is_empty() || cert.trim().is_empty() {
        return Err(format!(
            "{section} key and cert must name the PEM files it signs with"
        ));
    }
    let read = |p: &str| std::fs::read_to_string(p.trim()).map_err(|e| format!("{p}: {e}"));
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let certificate = Certificate::from_pem(&cert_pem).map_err(|e| format!("{cert}: {e}"))?;
    let signer = load_signer(&key_pem, certificate).map_err(|e| format!("{key}: {e}"))?;
    Ok(Arc::from(signer))
}

/// Signs the blocks of an adapter's messages with its key.
#[derive(Clone)]
pub struct Signing {
    signer: Arc<dyn Signer>,
    /// The UUID v1 node field of the MessageIDs the adapter makes.
    uuid_node: [u8; 6],
}

impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signing")
            .field("certificate", &self.signer.certificate().subject())
            .finish_non_exhaustive()
    }
}

impl Signing {
    pub fn new(signer: Arc<dyn Signer>) -> Signing {
        let mut uuid_node = [0u8; 6];
        uuid_node.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..6]);
        Signing { signer, uuid_node }
    }

    /// A new MessageID: a lower-case time-based (version 1) UUID, as SMEV requires.
    pub fn new_message_id(&self) -> MessageId {
        MessageId::new_v1(&self.uuid_node)
    }

    /// Fixes the block's text and signs exactly that text (ЭП-ОВ: exclusive c14n, then the SMEV
    /// transform): the block and its `CallerInformationSystemSignature`.
    ///
    /// # Errors
    /// [`SigningError`].
    pub fn seal_and_sign<T: XmlBlock>(&self, value: T) -> Result<(Signed<T>, XmlSignature), SigningError> {
        let sealed = Signed::sealed(value);
        let signature = self.sign_xml(&sealed.xml())?;
        Ok((sealed, signature))
    }

    fn sign_xml(&self, xml: &str) -> Result<XmlSignature, SigningError> {
        let failed = |e: &dyn std::fmt::Display| SigningError(e.to_string());
        let doc = Document::parse(xml.as_bytes(), &Limits::default()).map_err(|e| failed(&e))?;
        let options = SignOptions {
            transforms: TransformChain::ExcC14nThenSmev,
            ..SignOptions::default()
        };
        let raw = dsig::sign(&doc, doc.root(), self.signer.as_ref(), &options).map_err(|e| failed(&e))?;
        XmlSignature::new(raw).map_err(|e| failed(&e))
    }

    /// `GetRequestRequest` / `GetResponseRequest` for `info_type` (any when `None`).
    ///
    /// # Errors
    /// [`SigningError`].
    pub fn poll(
        &self,
        operation: Operation,
        info_type: Option<InfoTypeName>,
    ) -> Result<Envelope, SigningError> {
        let (selector, caller_signature) = self.seal_and_sign(MessageTypeSelector {
            id: Some(SIGNED_ID.into()),
            info_type,
            timestamp: DateTime::now_utc(),
            node_id: None,
        })?;
        let caller_signature = Some(caller_signature);
        Ok(match operation {
            Operation::GetResponse => Envelope::GetResponseRequest(GetResponseRequest {
                selector,
                caller_signature,
            }),
            _ => Envelope::GetRequestRequest(GetRequestRequest {
                selector,
                caller_signature,
            }),
        })
    }

    /// `GetIncomingQueueStatisticsRequest` (the 1.1 operation some SMEV 3 nodes, this one among
    /// them, still answer in the 1.3 namespace), signed over its timestamp.
    ///
    /// # Errors
    /// [`SigningError`].
    pub fn queue_statistics(&self) -> Result<Envelope, SigningError> {
        let (timestamp, signature) = self.seal_and_sign(Timestamp {
            id: Some(SIGNED_ID.into()),
            value: DateTime::now_utc(),
        })?;
        Ok(Envelope::GetIncomingQueueStatisticsRequest(
            GetIncomingQueueStatisticsRequest {
                node_id: None,
                timestamp,
                caller_signature: Some(signature),
            },
        ))
    }

    /// `AckRequest` for `message_id`.
    ///
    /// # Errors
    /// [`SigningError`].
    pub fn ack(&self, message_id: &MessageId) -> Result<Envelope, SigningError> {
        let (target, signature) = self.seal_and_sign(AckTargetMessage {
            id: SIGNED_ID.into(),
            accepted: Some(true),
            message_id: message_id.clone(),
        })?;
        Ok(Envelope::AckRequest(AckRequest {
            target,
            caller_signature: Some(signature),
        }))
    }
}
