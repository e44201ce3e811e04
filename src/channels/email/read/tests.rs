//! Mails as clients really write them: Gmail and Apple Mail replies in Italian and
//! English, Outlook's block, HTML-only mail, an out-of-office, a bounce.

use super::*;

fn mail(headers: &str, body: &str) -> Mail {
    let raw = format!("{headers}\r\n\r\n{body}")
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    read(raw.as_bytes()).unwrap()
}

const PLAIN: &str = "From: Maria Rossi <Maria.Rossi@Example.IT>\nTo: assistenza@negozio.it\nSubject: Re: Re: Reso della lampada\nMessage-ID: <abc123@mail.example.it>\nIn-Reply-To: <sportello.1@negozio.it>\nReferences: <first@mail.example.it> <sportello.1@negozio.it>\nContent-Type: text/plain; charset=utf-8";

#[test]
fn a_gmail_reply_in_italian_keeps_only_what_is_new() {
    let m = mail(
        PLAIN,
        "Come faccio a restituire la lampada?\n\nGrazie\nMaria\n\n-- \nMaria Rossi\nVia Roma 1, Milano\n\nIl giorno lun 30 nov 2026 alle ore 10:12 Negozio <\nassistenza@negozio.it> ha scritto:\n\n> Ciao Maria, come possiamo aiutarti?\n> Negozio",
    );
    assert_eq!(m.from, "maria.rossi@example.it");
    assert_eq!(m.name.as_deref(), Some("Maria Rossi"));
    assert_eq!(m.message_id, "abc123@mail.example.it");
    assert_eq!(
        m.fresh,
        "Come faccio a restituire la lampada?\n\nGrazie\nMaria"
    );
    assert!(
        m.full.contains("Ciao Maria, come possiamo aiutarti?"),
        "the full mail stays"
    );
    assert_eq!(
        m.references,
        ["first@mail.example.it", "sportello.1@negozio.it"]
    );
    assert_eq!(m.kind, MailKind::Customer);
    assert_eq!(reply_subject(&m.subject), "Re: Reso della lampada");
}

#[test]
fn english_outlook_and_phone_replies_are_cut_at_their_own_markers() {
    let on = mail(
        PLAIN,
        "Where is my parcel?\n\nOn Mon, 30 Nov 2026 at 10:12, Shop <help@shop.com> wrote:\n> Hello",
    );
    assert_eq!(on.fresh, "Where is my parcel?");
    let outlook = mail(
        PLAIN,
        "Vorrei la fattura.\n\n________________________________\nDa: Negozio <assistenza@negozio.it>\nInviato: lunedì 30 novembre 2026 10:12\nA: Maria\nOggetto: Ordine",
    );
    assert_eq!(outlook.fresh, "Vorrei la fattura.");
    let block = mail(
        PLAIN,
        "Grazie mille\n\nDa: Negozio <assistenza@negozio.it>\nData: 30/11/2026\nOggetto: Ordine\nTesto vecchio",
    );
    assert_eq!(block.fresh, "Grazie mille");
    let phone = mail(PLAIN, "Quando arriva?\n\nInviato da iPhone");
    assert_eq!(phone.fresh, "Quando arriva?");
    let bottom = mail(
        PLAIN,
        "> Come possiamo aiutarti?\n\nIl numero d'ordine è 1234",
    );
    assert_eq!(
        bottom.fresh, "Il numero d'ordine è 1234",
        "written below the quote"
    );
}

#[test]
fn html_only_mail_is_read_as_text() {
    let m = mail(
        "From: luca@example.com\nSubject: Spedizione\nMessage-ID: <h1@example.com>\nContent-Type: text/html; charset=utf-8",
        "<html><body><p>Quanto costa la <b>spedizione</b> in Sardegna?</p><div class=\"gmail_quote\">Il giorno lun 30 nov 2026 Negozio ha scritto:<blockquote>vecchio</blockquote></div></body></html>",
    );
    assert!(
        m.fresh
            .starts_with("Quanto costa la spedizione in Sardegna?"),
        "{:?}",
        m.fresh
    );
    assert!(!m.fresh.contains("vecchio"), "{:?}", m.fresh);
    assert!(!m.full.contains('<'), "{:?}", m.full);
}

#[test]
fn auto_replies_lists_and_no_reply_senders_are_never_answered() {
    let ooo = mail(
        "From: maria@example.it\nSubject: Fuori sede\nAuto-Submitted: auto-replied\nMessage-ID: <o1@x>",
        "Sono fuori sede fino al 7.",
    );
    assert!(matches!(ooo.kind, MailKind::Automated(_)), "{:?}", ooo.kind);
    let no = mail(
        "From: maria@example.it\nSubject: Ciao\nAuto-Submitted: no\nMessage-ID: <o2@x>",
        "Ciao",
    );
    assert_eq!(
        no.kind,
        MailKind::Customer,
        "Auto-Submitted: no is a person"
    );
    let list = mail(
        "From: news@example.it\nSubject: Offerte\nPrecedence: bulk\nMessage-ID: <o3@x>",
        "Offerte",
    );
    assert!(matches!(list.kind, MailKind::Automated(_)));
    let noreply = mail(
        "From: No-Reply@corriere.it\nSubject: Tracking\nMessage-ID: <o4@x>",
        "Il pacco",
    );
    assert!(matches!(noreply.kind, MailKind::Automated(_)));
}

#[test]
fn a_bounce_names_the_recipient_that_failed() {
    let raw = "From: Mail Delivery System <MAILER-DAEMON@mx.negozio.it>\nTo: assistenza@negozio.it\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <b1@mx.negozio.it>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nThis is the mail system. Your message could not be delivered.\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.negozio.it\n\nFinal-Recipient: rfc822; Nessuno@Example.IT\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n--B--\n";
    let m = read(raw.replace('\n', "\r\n").as_bytes()).unwrap();
    assert_eq!(
        m.kind,
        MailKind::Bounce {
            recipient: "nessuno@example.it".into(),
            why: "smtp; 550 5.1.1 user unknown".into()
        }
    );
}

#[test]
fn subjects_never_pile_up_prefixes_and_mail_without_an_id_gets_a_stable_one() {
    assert_eq!(reply_subject("Re: RE: R: Ordine 1234"), "Re: Ordine 1234");
    assert_eq!(reply_subject("Rif: Fattura"), "Re: Fattura");
    assert_eq!(reply_subject("Reso"), "Re: Reso");
    let raw = "From: a@b.it\nSubject: x\n\nciao".replace('\n', "\r\n");
    let one = read(raw.as_bytes()).unwrap();
    let two = read(raw.as_bytes()).unwrap();
    assert_eq!(
        one.message_id, two.message_id,
        "a redelivery is the same mail"
    );
    let long = format!("From: {}@example.it\nSubject: x\n\nciao", "a".repeat(260));
    assert_eq!(read(long.as_bytes()), Err(ReadError::LongAddress));
}

#[test]
fn attachments_are_named_and_typed_and_a_mail_without_a_sender_is_refused() {
    let raw = "From: anna@example.it\nSubject: Lampada rotta\nMessage-ID: <f1@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"M\"\n\n--M\nContent-Type: text/plain; charset=utf-8\n\nEcco la foto del danno.\n--M\nContent-Type: image/jpeg; name=\"danno.jpg\"\nContent-Disposition: attachment; filename=\"danno.jpg\"\nContent-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRg==\n--M\nContent-Type: application/pdf; name=\"ricevuta.pdf\"\nContent-Disposition: attachment; filename=\"ricevuta.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQ=\n--M--\n";
    let m = read(raw.replace('\n', "\r\n").as_bytes()).unwrap();
    assert_eq!(m.fresh, "Ecco la foto del danno.");
    assert_eq!(
        m.attachments,
        [
            (AttachmentKind::Photo, "danno.jpg".to_owned()),
            (AttachmentKind::Document, "ricevuta.pdf".to_owned())
        ]
    );
    let nobody = "Subject: x\r\nMessage-ID: <n@x>\r\n\r\nciao";
    assert_eq!(read(nobody.as_bytes()), Err(ReadError::NoSender));
}

#[test]
fn read_receipts_and_mailing_lists_are_machines_too() {
    let receipt = "From: maria@example.it\nSubject: Letto: Reso\nMessage-ID: <r1@x>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"R\"\n\n--R\nContent-Type: text/plain\n\nIl messaggio è stato letto.\n--R\nContent-Type: message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; displayed\n--R--\n";
    let m = read(receipt.replace('\n', "\r\n").as_bytes()).unwrap();
    assert!(matches!(m.kind, MailKind::Automated(_)), "{:?}", m.kind);
    let list = mail(
        "From: lista@example.it\nSubject: [clienti] novità\nList-Id: <clienti.example.it>\nMessage-ID: <l1@x>",
        "Ciao a tutti",
    );
    assert!(
        matches!(list.kind, MailKind::Automated(_)),
        "{:?}",
        list.kind
    );
}
