//! The route table: which paths exist and which methods each accepts.

use http::Method;

/// A known path shape. The parameter stays percent-encoded until the handler
/// decodes and validates it, so a bad parameter is a 400, not a 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/ec2/{id}`: one segment (an id cannot contain `/`).
    Instance(&'a str),
    /// `/ec2`
    Search,
    /// `/packages/{name}`: the rest of the path, so a name with `/` works both
    /// raw and as `%2F`.
    Package(&'a str),
}

impl<'a> Route<'a> {
    pub fn from_path(path: &'a str) -> Option<Self> {
        if path == "/ec2" {
            return Some(Self::Search);
        }
        if let Some(id) = path.strip_prefix("/ec2/") {
            return (!id.is_empty() && !id.contains('/')).then_some(Self::Instance(id));
        }
        path.strip_prefix("/packages/")
            .filter(|name| !name.is_empty())
            .map(Self::Package)
    }

    /// The route's template, for logs and error messages.
    pub fn template(self) -> &'static str {
        match self {
            Self::Instance(_) => "/ec2/{id}",
            Self::Search => "/ec2",
            Self::Package(_) => "/packages/{name}",
        }
    }

    /// The `Allow` header value.
    pub fn allow(self) -> &'static str {
        match self {
            Self::Instance(_) => "GET, POST, PUT, DELETE",
            Self::Search | Self::Package(_) => "GET",
        }
    }

    /// Whether the route accepts `method`: one of those [`Route::allow`] lists.
    pub fn allows(self, method: &Method) -> bool {
        self.allow().split(", ").any(|m| m == method.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_paths() {
        assert_eq!(Route::from_path("/ec2"), Some(Route::Search));
        assert_eq!(Route::from_path("/ec2/i-1"), Some(Route::Instance("i-1")));
        assert_eq!(
            Route::from_path("/packages/a/b%2Fc"),
            Some(Route::Package("a/b%2Fc"))
        );
        for none in [
            "/",
            "",
            "/ec2/",
            "/ec2/a/b",
            "/ec",
            "/ec2x",
            "/packages/",
            "/packages",
        ] {
            assert_eq!(Route::from_path(none), None, "{none}");
        }
    }

    #[test]
    fn methods() {
        let instance = Route::Instance("x");
        assert!(instance.allows(&Method::DELETE));
        assert!(!instance.allows(&Method::PATCH));
        assert!(!Route::Search.allows(&Method::POST));
        assert_eq!(Route::Package("p").allow(), "GET");
    }
}
