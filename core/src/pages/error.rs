//! The page for every failure of the connect flow.

use super::layout::{escape, page};
use crate::connect::flow::Problem;

pub fn error_page(problem: &Problem) -> String {
    let body = format!(
        r#"<h1>{title}</h1>
<p id="error-detail">{detail}</p>
<p id="error-next"><strong>What to do:</strong> {next}</p>
<p class="error-code">Error code: <span id="error-code">{code}</span> · HTTP {status}</p>
<p><a class="button" href="/">Back to Bindify</a></p>"#,
        title = escape(problem.title),
        detail = escape(&problem.detail),
        next = escape(problem.next_step),
        code = escape(problem.code),
        status = problem.status,
    );
    page(problem.title, &format!("error:{}", problem.code), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::flow::ConnectError;

    #[test]
    fn names_the_code_and_escapes_detail() {
        let problem = ConnectError::AccessDenied {
            description: Some("<b>no</b>".into()),
        }
        .problem();
        let html = error_page(&problem);
        assert!(html.contains(r#"data-page="error:access_denied""#));
        assert!(html.contains(r#"<span id="error-code">access_denied</span>"#));
        assert!(html.contains("&lt;b&gt;no&lt;/b&gt;"));
        assert_eq!(problem.status, 403);
        assert_eq!(
            problem.message(),
            "the authorization was declined: <b>no</b>. Nothing was stored. Start again if you want to connect, and choose Allow on the service's consent screen."
        );
    }
}
