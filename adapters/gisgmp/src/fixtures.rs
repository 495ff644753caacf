//! GIS GMP 2.4.0 requests of one administrator's charges and their payments, as tests,
//! benchmarks and demonstrations send them: every charge of KBK chapter 321 (`kbk`
//! 32111301031016000130, OKTMO 45348000) to one payee, every payment of it matching its charge's
//! requisites (so it reconciles with billStatus 1), dated 2021-07-01.

/// The namespaces the entity builders below use, declared on each request.
pub const NAMESPACES: &str = r#"xmlns:com="http://roskazna.ru/gisgmp/xsd/Common/2.4.0" xmlns:org="http://roskazna.ru/gisgmp/xsd/Organization/2.4.0" xmlns:chg="http://roskazna.ru/gisgmp/xsd/Charge/2.4.0" xmlns:pmnt="http://roskazna.ru/gisgmp/xsd/Payment/2.4.0" xmlns:pkg="http://roskazna.ru/gisgmp/xsd/Package/2.4.0" xmlns:sc="http://roskazna.ru/gisgmp/xsd/SearchConditions/2.4.0" xmlns:rfnd="http://roskazna.ru/gisgmp/xsd/Refund/2.4.0""#;

/// The administrator (АН) of the charges: their `originatorId`.
pub const ADMINISTRATOR: &str = "3eb5fa";

/// The KBK chapter of the charges' UINs (20 digits).
pub const KBK_CHAPTER: &str = "321";

/// The payee block every charge and payment carries.
pub const PAYEE: &str = r#"<org:Payee name="ФГБУ «ФКП Росреестра» по г Москва" inn="7705401341" kpp="770542151"><com:OrgAccount accountNumber="03100643000000019500"><com:Bank bik="024501901" correspondentBankAccount="40102810045370000002"/></com:OrgAccount></org:Payee>"#;

/// A request `root` of service `segment` (`import-charges`, …) from `sender` with `body`.
pub fn request(segment: &str, root: &str, sender: &str, body: &str) -> String {
    format!(
        r#"<req:{root} {NAMESPACES} xmlns:req="urn://roskazna.ru/gisgmp/xsd/services/{segment}/2.4.0" Id="G_{}" timestamp="2021-07-01T15:00:00.000+03:00" senderIdentifier="{sender}" senderRole="1">{body}</req:{root}>"#,
        uuid::Uuid::new_v4()
    )
}

/// `ImportChargesRequest` of `entities` (charges or changes).
pub fn import_charges(entities: &str) -> String {
    request(
        "import-charges",
        "ImportChargesRequest",
        "3eacb7",
        &format!("<pkg:ChargesPackage>{entities}</pkg:ChargesPackage>"),
    )
}

/// A new charge `uin` of `amount` kopecks, entity `id`.
pub fn charge(id: &str, uin: &str, amount: u64) -> String {
    format!(
        r#"<pkg:ImportedCharge Id="{id}" originatorId="{ADMINISTRATOR}" supplierBillID="{uin}" billDate="2021-06-30T14:06:30.313+03:00" totalAmount="{amount}" purpose="Плата за предоставление сведений" kbk="32111301031016000130" oktmo="45348000">{PAYEE}<chg:Payer payerIdentifier="1220000000007712579832" payerName="Тестовый плательщик"/><chg:BudgetIndex status="01" paytReason="0" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/></pkg:ImportedCharge>"#
    )
}

/// A change of charge `uin` with ChangeStatus `meaning` (2, 3, 4) and `changes`
/// (`com:Change` elements), entity `id`.
pub fn change(id: &str, uin: &str, meaning: u8, changes: &str) -> String {
    format!(
        r#"<pkg:ImportedChange Id="{id}" originatorId="{ADMINISTRATOR}"><pkg:SupplierBillId>{uin}</pkg:SupplierBillId>{changes}<com:ChangeStatus><com:Meaning>{meaning}</com:Meaning><com:Reason>проверка</com:Reason><com:ChangeDate>2021-07-01T10:00:00.000+03:00</com:ChangeDate></com:ChangeStatus></pkg:ImportedChange>"#
    )
}

/// `ImportPaymentsRequest` of `entities`.
pub fn import_payments(entities: &str) -> String {
    request(
        "import-payments",
        "ImportPaymentsRequest",
        "3eb646",
        &format!("<pkg:PaymentsPackage>{entities}</pkg:PaymentsPackage>"),
    )
}

/// A payment `payment_id` (an УПНО of 2021-07-01) of `amount` kopecks for charge `uin`,
/// entity `id`.
pub fn payment(id: &str, payment_id: &str, uin: &str, amount: u64) -> String {
    format!(
        r#"<pkg:ImportedPayment Id="{id}" paymentId="{payment_id}" purpose="Плата" kbk="32111301031016000130" oktmo="45348000" supplierBillID="{uin}" amount="{amount}" paymentDate="2021-07-01T14:06:30.313+03:00" transKind="01"><pmnt:PaymentOrg><org:Bank bik="047252006"/></pmnt:PaymentOrg><pmnt:Payer payerName="Тестовый плательщик" payerIdentifier="1220000000007712579832"/>{PAYEE}<pmnt:BudgetIndex status="01" paytReason="0" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/></pkg:ImportedPayment>"#
    )
}

/// The `n`-th УПНО (from 1) of a credit institution's payments of 2021-07-01.
pub fn payment_id(n: u32) -> String {
    format!("104710200100052301072021{n:08}")
}

/// `ImportRefundsRequest` of `entities`, from the Treasury's body (ТОФК).
pub fn import_refunds(entities: &str) -> String {
    request(
        "import-refunds",
        "ImportRefundsRequest",
        "aaa111",
        &format!("<pkg:RefundsPackage>{entities}</pkg:RefundsPackage>"),
    )
}

/// A refund `refund_id` of `amount` kopecks from payment `payment_id`, entity `id`.
pub fn refund(id: &str, refund_id: &str, payment_id: &str, amount: u64) -> String {
    format!(
        r#"<pkg:ImportedRefund Id="{id}" refundId="{refund_id}" refundDocDate="2021-07-02T10:00:00.000+03:00" budgetLevel="1" kbk="32111301031016000130" oktmo="45348000"><org:RefundPayer codeUBP="28519" name="Управление Федерального казначейства" inn="7706012716" kpp="770901011"/><rfnd:RefundApplication appNum="256894" appDate="2021-07-02" paymentId="{payment_id}" cashType="1" amount="{amount}" purpose="Возврат излишне уплаченного"/><rfnd:RefundBasis docKind="Заявление" docNumber="235" docDate="2021-07-02"/><rfnd:RefundPayee payerIdentifier="1220000000007712579832" name="Тестовый плательщик"><rfnd:BankAccountNumber><com:Bank bik="044552272" correspondentBankAccount="30101810800000010022"/></rfnd:BankAccountNumber></rfnd:RefundPayee></pkg:ImportedRefund>"#
    )
}

/// The `n`-th УИВ (from 1) of refunds of 2021-07-02 (25 digits).
pub fn refund_id(n: u32) -> String {
    format!("1047102002072021{n:09}")
}

/// An export of service `segment` (`export-charges`, `export-quittances`, …) with root `root`,
/// conditions element `conditions` of `kind`, for charge `uin`.
pub fn export(segment: &str, root: &str, conditions: &str, kind: &str, uin: &str) -> String {
    request(
        segment,
        root,
        "3eacb7",
        &format!(
            r#"<com:Paging pageNumber="1" pageLength="100"/><sc:{conditions} kind="{kind}"><sc:ChargesConditions><sc:SupplierBillID>{uin}</sc:SupplierBillID></sc:ChargesConditions></sc:{conditions}>"#
        ),
    )
}

/// `ForcedAcknowledgementRequest` from the administrator with `block`.
pub fn forced(block: &str) -> String {
    request(
        "forced-ackmowledgement",
        "ForcedAcknowledgementRequest",
        ADMINISTRATOR,
        block,
    )
}
