package main

import "testing"

func TestHTMLToText(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>The  Page</title><style>body{color:red}</style>
<script>var x = "<p>not text</p>";</script></head>
<body><nav><a href="#top">skip</a></nav>
<h1>Hello &amp; welcome</h1>
<p>Some <b>bold</b> and <em>soft</em> text with a <a href="https://example.com/x?a=1&amp;b=2">link</a>.</p>
<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul>
<pre><code>if x &lt; 1 {
    y()
}</code></pre>
<p>Line<br>break <code>inline()</code></p><!-- a comment -->
<img src="a.png" alt="A cat"></body></html>`
	title, text := HTMLToText(page)
	if title != "The Page" {
		t.Errorf("title = %q", title)
	}
	want := "skip\n\n# Hello & welcome\n\nSome **bold** and _soft_ text with a [link](https://example.com/x?a=1&b=2).\n\n- one\n- two\n  1. a\n  2. b\n\n```\nif x < 1 {\n    y()\n}\n```\n\nLine\nbreak `inline()`\n\n[image: A cat]"
	if text != want {
		t.Errorf("text =\n%s\n--- want ---\n%s", text, want)
	}
}
