//! User sign-in: the authorize endpoint and its sign-in page, and the device-code flow.

use crate::server::{Req, Resp};
use crate::state::Shared;

pub(crate) fn authorize(_shared: &Shared, _req: &Req, _segment: &str) -> Resp {
    Resp::html(404, String::new())
}

pub(crate) fn login(_shared: &Shared, _req: &Req, _segment: &str) -> Resp {
    Resp::html(404, String::new())
}

pub(crate) fn devicecode_endpoint(_shared: &Shared, _req: &Req, _segment: &str) -> Resp {
    Resp::html(404, String::new())
}

pub(crate) fn devicelogin(_shared: &Shared, _req: &Req) -> Resp {
    Resp::html(404, String::new())
}
