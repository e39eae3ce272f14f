//! Where an Amazon Linux repository publishes its `updateinfo.xml`: the
//! repository's `mirror.list` names the repository (its first URL), whose
//! `repodata/repomd.xml` names the file (`<data type="updateinfo">`'s
//! `<location href>`, relative to the repository). Pure parsing.

use quick_xml::events::Event;

use super::alas::attribute;

/// The first URL of a `mirror.list` (one URL a line; blank lines and `#`
/// comments ignored).
pub fn first_mirror(mirror_list: &str) -> Option<&str> {
    mirror_list
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
}

/// The `href` of the `updateinfo` entry of a `repomd.xml`; `Ok(None)` when
/// the repository has none, `Err` when the XML is malformed.
pub fn updateinfo_href(repomd: &[u8]) -> Result<Option<String>, quick_xml::Error> {
    let mut xml = quick_xml::Reader::from_reader(repomd);
    let mut buf = Vec::new();
    let mut in_updateinfo = false;
    loop {
        let event = xml.read_event_into(&mut buf)?;
        match &event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "data" => in_updateinfo = attribute(e, "type").as_deref() == Some("updateinfo"),
                "location" if in_updateinfo => {
                    return Ok(attribute(e, "href").filter(|href| !href.is_empty()));
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "data" => in_updateinfo = false,
            Event::Eof => return Ok(None),
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of a real repomd.xml (createrepo_c), cut to three entries.
    const REPOMD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1733270400</revision>
  <data type="primary">
    <checksum type="sha256">aa</checksum>
    <location href="repodata/aa-primary.xml.gz"/>
  </data>
  <data type="updateinfo">
    <checksum type="sha256">bb</checksum>
    <location href="repodata/bb-updateinfo.xml.gz"/>
    <size>123</size>
  </data>
  <data type="group">
    <location href="repodata/cc-comps.xml"/>
  </data>
</repomd>"#;

    #[test]
    fn the_updateinfo_location() {
        assert_eq!(
            updateinfo_href(REPOMD.as_bytes()).unwrap().as_deref(),
            Some("repodata/bb-updateinfo.xml.gz")
        );
        let without = REPOMD.replace("\"updateinfo\"", "\"other\"");
        assert_eq!(updateinfo_href(without.as_bytes()).unwrap(), None);
        assert!(updateinfo_href(b"<repomd><data type=\"updateinfo\"></repomd>").is_err());
    }

    #[test]
    fn the_first_mirror() {
        let list =
            "\n# mirrors\n  https://cdn.example/al2023/core/guids/abc/x86_64/ \nhttps://other/\n";
        assert_eq!(
            first_mirror(list),
            Some("https://cdn.example/al2023/core/guids/abc/x86_64/")
        );
        assert_eq!(first_mirror("\n# none\n"), None);
    }
}
