//! TrueNAS's REST API (`/api/v2.0`, the middleware's `restful.py`) as rules, in one place and
//! in two strictnesses:
//!
//! - [`map`] is the strict form: a middleware method and its positional params to the exact HTTP
//!   request TrueNAS routes to that call ([`to_http`], the REST client on releases without
//!   JSON-RPC), and such a request back to the call ([`from_http`], the simulated NAS). A round
//!   trip gives back the same call; anything the rules do not produce is refused.
//! - [`lenient`] is the form the raw escape hatch (`truenas_api_call`) accepts: the REST
//!   vocabulary the replaced server documents (`GET /pool/dataset`, `POST /vm/id/3/start`),
//!   parsed segment by segment into the method it stands for, so that policy can judge that
//!   method. It accepts more spellings (an `/api/v2.0` prefix, a verb in any case, a body as
//!   params) and still refuses traversal and odd characters.
//!
//! `query` holds the query-string half of the strict rules (filters, options, `extra.*`).

pub mod lenient;
pub mod map;
mod query;

pub use lenient::{RestError, RestRequest, resolve};
pub use map::{HttpCall, MapError, Verb, from_http, same_over_rest, to_http};
