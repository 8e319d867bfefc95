<?xml version="1.0" encoding="utf-8"?>
<!--
  feed.xsl: shows an RSS 2.0 or Atom 1.0 feed served by tidings as a
  readable web page when someone opens it in a browser.

  Feeds point here with
      <?xml-stylesheet href="/feed.xsl" type="text/xsl"?>
  Feed readers ignore that line; browsers run this XSLT 1.0 stylesheet and
  show the HTML it produces instead of raw XML.

  Works under `default-src 'none'; style-src 'unsafe-inline'`: no
  scripts, fonts, images or any other fetched resource, only the inline
  <style> below. Item summaries hold escaped HTML, which browsers' XSLT
  engines cannot render (disable-output-escaping is ignored), so they are
  shown as plain text: tags are stripped and the common named entities
  decoded by the recursive templates at the end of this file.

  Must stay XSLT 1.0 with no extension functions: that is all browsers
  support.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    exclude-result-prefixes="atom dc content">

  <xsl:output method="html" encoding="utf-8" indent="no"
      doctype-system="about:legacy-compat"/>

  <!-- Longest summary shown, in characters, before it is cut at a word. -->
  <xsl:variable name="summary-max" select="480"/>
  <!-- Most tags (or entities of one kind) a summary is scanned for; see
       html-to-text. 400 keeps well inside libxslt's depth limit. -->
  <xsl:variable name="max-steps" select="400"/>
  <xsl:variable name="block-tags"
      select="'|p|br|div|li|ul|ol|dl|dt|dd|blockquote|pre|hr|h1|h2|h3|h4|h5|h6|table|tr|td|th|figure|figcaption|img|section|article|aside|header|footer|'"/>

  <xsl:variable name="months" select="'JanFebMarAprMayJunJulAugSepOctNovDec'"/>
  <xsl:variable name="upper" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"/>
  <xsl:variable name="lower" select="'abcdefghijklmnopqrstuvwxyz'"/>

  <!-- One entry point for both formats. -->
  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="rss/channel">
        <xsl:call-template name="page">
          <xsl:with-param name="kind" select="'RSS'"/>
          <xsl:with-param name="title" select="normalize-space(rss/channel/title)"/>
          <xsl:with-param name="description" select="normalize-space(rss/channel/description)"/>
          <xsl:with-param name="lang" select="normalize-space(rss/channel/language)"/>
          <xsl:with-param name="self" select="normalize-space(rss/channel/atom:link[@rel='self'][1]/@href)"/>
          <xsl:with-param name="site" select="normalize-space(rss/channel/link)"/>
          <xsl:with-param name="items" select="rss/channel/item"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:when test="atom:feed">
        <xsl:call-template name="page">
          <xsl:with-param name="kind" select="'Atom'"/>
          <xsl:with-param name="title" select="normalize-space(atom:feed/atom:title)"/>
          <xsl:with-param name="description" select="normalize-space(atom:feed/atom:subtitle)"/>
          <xsl:with-param name="lang" select="normalize-space(atom:feed/@xml:lang)"/>
          <xsl:with-param name="self" select="normalize-space(atom:feed/atom:link[@rel='self'][1]/@href)"/>
          <xsl:with-param name="site" select="normalize-space(atom:feed/atom:link[@rel='alternate' or not(@rel)][1]/@href)"/>
          <xsl:with-param name="items" select="atom:feed/atom:entry"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <html lang="en">
          <head>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>Unrecognised feed</title>
          </head>
          <body>
            <main>
              <h1>Unrecognised feed</h1>
              <p>This document is neither RSS 2.0 nor Atom 1.0.</p>
            </main>
          </body>
        </html>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="page">
    <xsl:param name="kind"/>
    <xsl:param name="title"/>
    <xsl:param name="description"/>
    <xsl:param name="lang"/>
    <xsl:param name="self"/>
    <xsl:param name="site"/>
    <xsl:param name="items"/>
    <xsl:variable name="name">
      <xsl:choose>
        <xsl:when test="$title != ''"><xsl:value-of select="$title"/></xsl:when>
        <xsl:otherwise>Untitled feed</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <html>
      <xsl:attribute name="lang">
        <xsl:choose>
          <xsl:when test="$lang != ''"><xsl:value-of select="$lang"/></xsl:when>
          <xsl:otherwise>en</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$name"/> (<xsl:value-of select="$kind"/> feed)</title>
        <style><![CDATA[
:root {
  color-scheme: light dark;
  --bg: #fbfaf8;
  --fg: #1f2328;
  --muted: #5b616b;
  --rule: #e3e0da;
  --card: #ffffff;
  --box: #fff4e5;
  --box-rule: #f0c88a;
  --link: #0b5cad;
  --visited: #6a3fa0;
  --accent: #c2410c;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #17191c;
    --fg: #e6e6e3;
    --muted: #a4a9b1;
    --rule: #30343a;
    --card: #1e2125;
    --box: #2a2219;
    --box-rule: #6b4d22;
    --link: #7cb7ff;
    --visited: #c6a6f2;
    --accent: #fb923c;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--fg);
  font: 1.0625rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.wrap { max-width: 42rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
a { color: var(--link); text-underline-offset: 0.15em; }
a:visited { color: var(--visited); }
a:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
header.feed { padding-bottom: 1.25rem; border-bottom: 1px solid var(--rule); }
.kind {
  display: inline-block;
  margin: 0 0 0.5rem;
  padding: 0.1rem 0.55rem;
  border-radius: 999px;
  background: var(--accent);
  color: #fff;
  font-size: 0.75rem;
  font-weight: 700;
  letter-spacing: 0.06em;
  text-transform: uppercase;
}
@media (prefers-color-scheme: dark) { .kind { color: #1a1a1a; } }
h1 { margin: 0; font-size: 2rem; line-height: 1.2; overflow-wrap: anywhere; }
.desc { margin: 0.6rem 0 0; color: var(--muted); font-size: 1.1rem; }
.site { margin: 0.75rem 0 0; font-size: 0.95rem; }
.about {
  margin: 1.5rem 0 2rem;
  padding: 1rem 1.25rem 1.15rem;
  background: var(--box);
  border: 1px solid var(--box-rule);
  border-radius: 0.6rem;
}
.about h2 { margin: 0 0 0.4rem; font-size: 1.1rem; }
.about p { margin: 0 0 0.75rem; }
.about label { display: block; margin: 0 0 0.3rem; font-weight: 600; font-size: 0.95rem; }
.about input {
  display: block;
  width: 100%;
  padding: 0.5rem 0.65rem;
  border: 1px solid var(--box-rule);
  border-radius: 0.4rem;
  background: var(--card);
  color: var(--fg);
  font: 1rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
.about .hint { margin: 0.6rem 0 0; color: var(--muted); font-size: 0.9rem; }
.count { margin: 0 0 0.5rem; color: var(--muted); font-size: 0.9rem; }
article { padding: 1.1rem 0 1.2rem; border-bottom: 1px solid var(--rule); }
article:last-child { border-bottom: 0; }
article h2 { margin: 0; font-size: 1.3rem; line-height: 1.3; overflow-wrap: anywhere; }
article h2 a { text-decoration-thickness: 1px; }
.meta { margin: 0.25rem 0 0; color: var(--muted); font-size: 0.9rem; }
.summary { margin: 0.5rem 0 0; overflow-wrap: anywhere; }
.empty { color: var(--muted); }
footer { margin-top: 2rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 30rem) {
  .wrap { padding: 1.25rem 1rem 2.5rem; }
  .about { padding: 0.85rem 0.9rem 1rem; }
  .about input { padding: 0.45rem 0.5rem; font-size: 0.95rem; }
  h1 { font-size: 1.6rem; }
  article h2 { font-size: 1.15rem; }
}
]]></style>
      </head>
      <body>
        <div class="wrap">
          <header class="feed">
            <p class="kind"><xsl:value-of select="$kind"/> feed</p>
            <h1><xsl:value-of select="$name"/></h1>
            <xsl:if test="$description != ''">
              <p class="desc"><xsl:value-of select="$description"/></p>
            </xsl:if>
            <xsl:if test="starts-with($site, 'http://') or starts-with($site, 'https://')">
              <p class="site"><a href="{$site}">Visit the website</a></p>
            </xsl:if>
          </header>
          <main>
            <aside class="about" lang="en" aria-labelledby="about-title">
              <h2 id="about-title">This is a web feed</h2>
              <p>A feed lets you follow this site in a <strong>feed reader</strong>:
                new posts show up there by themselves, with no account, email or
                algorithm in between. To subscribe, copy this page’s address into
                your feed reader.</p>
              <xsl:choose>
                <xsl:when test="$self != ''">
                  <label for="feed-url">Feed address</label>
                  <input id="feed-url" type="url" readonly="readonly" value="{$self}"
                      spellcheck="false" autocomplete="off"/>
                </xsl:when>
                <xsl:otherwise>
                  <p>The address is the one shown in your browser’s address bar.</p>
                </xsl:otherwise>
              </xsl:choose>
              <p class="hint">Feed readers are apps and websites that collect
                feeds; many are free. Below is what this feed holds right now.</p>
            </aside>
            <xsl:choose>
              <xsl:when test="$items">
                <p class="count" lang="en">
                  <xsl:value-of select="count($items)"/>
                  <xsl:choose>
                    <xsl:when test="count($items) = 1"> post, newest first</xsl:when>
                    <xsl:otherwise> posts, newest first</xsl:otherwise>
                  </xsl:choose>
                </p>
                <xsl:apply-templates select="$items"/>
              </xsl:when>
              <xsl:otherwise>
                <p class="empty" lang="en">No posts yet.</p>
              </xsl:otherwise>
            </xsl:choose>
          </main>
          <footer lang="en">
            <p>You are seeing this page because you opened the feed in a web
              browser. Feed readers get the same address as plain XML.</p>
          </footer>
        </div>
      </body>
    </html>
  </xsl:template>

  <!-- RSS 2.0 item. -->
  <xsl:template match="item">
    <xsl:variable name="summary">
      <xsl:choose>
        <xsl:when test="normalize-space(description) != ''">
          <xsl:call-template name="html-to-text">
            <xsl:with-param name="html" select="description"/>
          </xsl:call-template>
        </xsl:when>
        <xsl:when test="normalize-space(content:encoded) != ''">
          <xsl:call-template name="html-to-text">
            <xsl:with-param name="html" select="content:encoded"/>
          </xsl:call-template>
        </xsl:when>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="author">
      <xsl:choose>
        <xsl:when test="normalize-space(author) != ''">
          <!-- "mail@example.org (Name)" shows as "Name". -->
          <xsl:variable name="a" select="normalize-space(author)"/>
          <xsl:variable name="inner" select="normalize-space(substring-before(substring-after($a, '('), ')'))"/>
          <xsl:choose>
            <xsl:when test="$inner != ''"><xsl:value-of select="$inner"/></xsl:when>
            <xsl:otherwise><xsl:value-of select="$a"/></xsl:otherwise>
          </xsl:choose>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="normalize-space(dc:creator)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:call-template name="entry">
      <xsl:with-param name="title" select="normalize-space(title)"/>
      <xsl:with-param name="link" select="normalize-space(link)"/>
      <xsl:with-param name="author" select="string($author)"/>
      <xsl:with-param name="summary" select="string($summary)"/>
      <xsl:with-param name="date-kind" select="'rfc822'"/>
      <xsl:with-param name="date" select="normalize-space(pubDate)"/>
    </xsl:call-template>
  </xsl:template>

  <!-- Atom 1.0 entry. -->
  <xsl:template match="atom:entry">
    <xsl:variable name="text" select="atom:summary[normalize-space(.) != ''][1] | atom:content[normalize-space(.) != ''][1][not(../atom:summary[normalize-space(.) != ''])]"/>
    <xsl:variable name="summary">
      <xsl:choose>
        <xsl:when test="not($text)"/>
        <xsl:when test="$text/@type = 'html'">
          <xsl:call-template name="html-to-text">
            <xsl:with-param name="html" select="$text"/>
          </xsl:call-template>
        </xsl:when>
        <xsl:otherwise>
          <!-- type="text" (or none) is already plain; type="xhtml" is
               markup whose string value is its text. -->
          <xsl:call-template name="clip">
            <xsl:with-param name="text" select="normalize-space($text)"/>
          </xsl:call-template>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="author">
      <xsl:choose>
        <xsl:when test="atom:author/atom:name">
          <xsl:for-each select="atom:author/atom:name">
            <xsl:if test="position() != 1">, </xsl:if>
            <xsl:value-of select="normalize-space(.)"/>
          </xsl:for-each>
        </xsl:when>
        <!-- An entry without its own author inherits the feed's. -->
        <xsl:otherwise><xsl:value-of select="normalize-space(../atom:author[1]/atom:name)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:call-template name="entry">
      <xsl:with-param name="title" select="normalize-space(atom:title)"/>
      <xsl:with-param name="link" select="normalize-space(atom:link[@rel='alternate' or not(@rel)][1]/@href)"/>
      <xsl:with-param name="author" select="string($author)"/>
      <xsl:with-param name="summary" select="string($summary)"/>
      <xsl:with-param name="date-kind" select="'iso'"/>
      <xsl:with-param name="date" select="normalize-space(atom:published[1] | atom:updated[1][not(../atom:published)])"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="entry">
    <xsl:param name="title"/>
    <xsl:param name="link"/>
    <xsl:param name="author"/>
    <xsl:param name="summary"/>
    <xsl:param name="date-kind"/>
    <xsl:param name="date"/>
    <article>
      <h2>
        <xsl:variable name="label">
          <xsl:choose>
            <xsl:when test="$title != ''"><xsl:value-of select="$title"/></xsl:when>
            <xsl:otherwise>(untitled)</xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:choose>
          <xsl:when test="starts-with($link, 'http://') or starts-with($link, 'https://') or starts-with($link, '/')">
            <a href="{$link}"><xsl:value-of select="$label"/></a>
          </xsl:when>
          <xsl:otherwise><xsl:value-of select="$label"/></xsl:otherwise>
        </xsl:choose>
      </h2>
      <xsl:if test="$date != '' or $author != ''">
        <p class="meta">
          <xsl:if test="$date != ''">
            <xsl:choose>
              <xsl:when test="$date-kind = 'iso'">
                <xsl:call-template name="iso-date">
                  <xsl:with-param name="d" select="$date"/>
                </xsl:call-template>
              </xsl:when>
              <xsl:otherwise>
                <xsl:call-template name="rfc822-date">
                  <xsl:with-param name="d" select="$date"/>
                </xsl:call-template>
              </xsl:otherwise>
            </xsl:choose>
          </xsl:if>
          <xsl:if test="$date != '' and $author != ''"> · </xsl:if>
          <xsl:if test="$author != ''">
            <span class="author"><xsl:value-of select="$author"/></span>
          </xsl:if>
        </p>
      </xsl:if>
      <xsl:if test="$summary != ''">
        <p class="summary"><xsl:value-of select="$summary"/></p>
      </xsl:if>
    </article>
  </xsl:template>

  <!-- "2026-10-06T08:15:00+01:00" shows as "6 Oct 2026". -->
  <xsl:template name="iso-date">
    <xsl:param name="d"/>
    <xsl:variable name="y" select="substring($d, 1, 4)"/>
    <xsl:variable name="m" select="number(substring($d, 6, 2))"/>
    <xsl:variable name="day" select="number(substring($d, 9, 2))"/>
    <xsl:choose>
      <xsl:when test="string-length($y) = 4 and string(number($y)) != 'NaN' and $m &gt;= 1 and $m &lt;= 12 and $day &gt;= 1 and $day &lt;= 31">
        <time datetime="{$d}">
          <xsl:value-of select="concat($day, ' ', substring($months, ($m - 1) * 3 + 1, 3), ' ', $y)"/>
        </time>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="substring($d, 1, 10)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- "Tue, 06 Oct 2026 07:15:00 +0000" shows as "6 Oct 2026"; anything
       that does not parse is shown as written. -->
  <xsl:template name="rfc822-date">
    <xsl:param name="d"/>
    <xsl:variable name="s">
      <xsl:choose>
        <xsl:when test="contains($d, ',')"><xsl:value-of select="normalize-space(substring-after($d, ','))"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$d"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="day" select="number(substring-before($s, ' '))"/>
    <xsl:variable name="r1" select="substring-after($s, ' ')"/>
    <xsl:variable name="mon" select="substring-before($r1, ' ')"/>
    <xsl:variable name="y" select="substring-before(concat(substring-after($r1, ' '), ' '), ' ')"/>
    <xsl:variable name="m" select="string-length(substring-before($months, $mon)) div 3 + 1"/>
    <xsl:choose>
      <xsl:when test="string-length($mon) = 3 and contains($months, $mon) and string-length($y) = 4 and string(number($y)) != 'NaN' and $day &gt;= 1 and $day &lt;= 31">
        <time title="{$d}">
          <xsl:attribute name="datetime">
            <xsl:value-of select="concat($y, '-', format-number($m, '00'), '-', format-number($day, '00'))"/>
          </xsl:attribute>
          <xsl:value-of select="concat($day, ' ', $mon, ' ', $y)"/>
        </time>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$d"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Escaped HTML to a short plain-text summary.

       Recursion depth matters: libxslt (Chromium's XSLT engine) stops at
       3000 nested template calls plus variables, and when it does the
       browser shows an EMPTY page. strip-tags and replace recurse once per
       tag or entity, so each carries a budget ($max-steps) and gives up
       when it is spent; a summary that needs more than that many tags
       has long since passed $summary-max characters anyway. -->
  <xsl:template name="html-to-text">
    <xsl:param name="html"/>
    <xsl:variable name="stripped">
      <xsl:call-template name="strip-tags">
        <xsl:with-param name="s" select="substring(string($html), 1, 4000)"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:variable name="decoded">
      <xsl:call-template name="decode-entities">
        <xsl:with-param name="s" select="normalize-space($stripped)"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:call-template name="clip">
      <xsl:with-param name="text" select="normalize-space($decoded)"/>
    </xsl:call-template>
  </xsl:template>

  <!-- Drops every <...> tag. Block-level tags become a space so that
       "<p>one</p><p>two</p>" reads "one two"; inline tags vanish so that
       "<em>word</em>," stays "word,". A "<" with no ">" after it ends
       the text (a tag cut off by the cap above). -->
  <xsl:template name="strip-tags">
    <xsl:param name="s"/>
    <xsl:param name="steps" select="$max-steps"/>
    <xsl:choose>
      <xsl:when test="contains($s, '&lt;')">
        <xsl:value-of select="substring-before($s, '&lt;')"/>
        <xsl:variable name="rest" select="substring-after($s, '&lt;')"/>
        <xsl:if test="$steps &gt; 0 and contains($rest, '&gt;')">
          <!-- The tag's name, lower-cased, without "/" or attributes. -->
          <xsl:if test="contains($block-tags, concat('|', substring-before(concat(normalize-space(translate(
                            substring-before($rest, '&gt;'), concat($upper, '/&#9;&#10;&#13;'), concat($lower, '    '))), ' '), ' '), '|'))">
            <xsl:text> </xsl:text>
          </xsl:if>
          <xsl:call-template name="strip-tags">
            <xsl:with-param name="s" select="substring-after($rest, '&gt;')"/>
            <xsl:with-param name="steps" select="$steps - 1"/>
          </xsl:call-template>
        </xsl:if>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The entities Markdown renderers emit; &amp; goes last so that
       "&amp;lt;" becomes "&lt;" and not "<". -->
  <xsl:template name="decode-entities">
    <xsl:param name="s"/>
    <xsl:choose>
      <xsl:when test="contains($s, '&amp;')">
        <xsl:variable name="a">
          <xsl:call-template name="replace">
            <xsl:with-param name="s" select="$s"/>
            <xsl:with-param name="from" select="'&amp;lt;'"/>
            <xsl:with-param name="to" select="'&lt;'"/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:variable name="b">
          <xsl:call-template name="replace">
            <xsl:with-param name="s" select="$a"/>
            <xsl:with-param name="from" select="'&amp;gt;'"/>
            <xsl:with-param name="to" select="'&gt;'"/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:variable name="c">
          <xsl:call-template name="replace">
            <xsl:with-param name="s" select="$b"/>
            <xsl:with-param name="from" select="'&amp;quot;'"/>
            <xsl:with-param name="to" select="'&quot;'"/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:variable name="d">
          <xsl:call-template name="replace">
            <xsl:with-param name="s" select="$c"/>
            <xsl:with-param name="from" select="'&amp;#39;'"/>
            <xsl:with-param name="to" select='"&apos;"'/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:variable name="e">
          <xsl:call-template name="replace">
            <xsl:with-param name="s" select="$d"/>
            <xsl:with-param name="from" select="'&amp;apos;'"/>
            <xsl:with-param name="to" select='"&apos;"'/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:variable name="f">
          <xsl:call-template name="replace">
            <xsl:with-param name="s" select="$e"/>
            <xsl:with-param name="from" select="'&amp;nbsp;'"/>
            <xsl:with-param name="to" select="'&#160;'"/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:call-template name="replace">
          <xsl:with-param name="s" select="$f"/>
          <xsl:with-param name="from" select="'&amp;amp;'"/>
          <xsl:with-param name="to" select="'&amp;'"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="s"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:param name="steps" select="$max-steps"/>
    <xsl:choose>
      <xsl:when test="$steps &gt; 0 and contains($s, $from)">
        <xsl:value-of select="concat(substring-before($s, $from), $to)"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="s" select="substring-after($s, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
          <xsl:with-param name="steps" select="$steps - 1"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Cuts text longer than $summary-max at the next space and adds "…". -->
  <xsl:template name="clip">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="string-length($text) &gt; $summary-max">
        <xsl:variable name="tail" select="substring($text, $summary-max + 1)"/>
        <xsl:value-of select="substring($text, 1, $summary-max)"/>
        <xsl:choose>
          <xsl:when test="contains($tail, ' ')">
            <xsl:value-of select="substring-before($tail, ' ')"/>
            <xsl:text>…</xsl:text>
          </xsl:when>
          <xsl:otherwise><xsl:value-of select="$tail"/></xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
