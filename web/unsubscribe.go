package web

import _ "embed"

//go:embed unsubscribe.html
var unsubscribeHTML []byte

// UnsubscribePage is the page of an e-mail's unsubscribe link. Opening it
// changes nothing; its button turns the e-mail's kind off. The token is in
// the query (RFC 8058 one-click posts to the very URL), and the page sends
// no Referer.
var UnsubscribePage = linkPage(unsubscribeHTML)
