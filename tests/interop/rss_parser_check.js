#!/usr/bin/env node
// rss_parser_check.js - read RSS/Atom files with the npm package rss-parser, as a
// JavaScript feed reader would, and print what it saw as one line of JSON.
//
// Usage: NODE_PATH=$INTEROP_HOME/node/node_modules node rss_parser_check.js FILE...
//
// Output: {"FILE": {"items": N, "missing": ["item 3 (\"Title\"): no link", ...]}, ...}
// or {"FILE": {"error": "why rss-parser could not read it"}} per file. "missing" lists
// items without a title, a link or a date rss-parser can read (isoDate). Exit 0 when
// every file was read (missing fields included: judging is check_feeds.py's job),
// 1 when rss-parser threw on some file, 2 on usage errors or when rss-parser is absent.
'use strict';
const fs = require('fs');

let Parser;
try {
  Parser = require('rss-parser');
} catch (e) {
  console.error('rss-parser is not installed (run tests/interop/install.sh; NODE_PATH=' +
    (process.env.NODE_PATH || '') + '): ' + e.message);
  process.exit(2);
}

async function main(files) {
  if (files.length === 0) {
    console.error('usage: rss_parser_check.js FILE...');
    return 2;
  }
  const parser = new Parser();
  const out = {};
  let failed = 0;
  for (const file of files) {
    try {
      const feed = await parser.parseString(fs.readFileSync(file, 'utf8'));
      const missing = [];
      feed.items.forEach((item, i) => {
        const no = [];
        if (!String(item.title || '').trim()) no.push('title');
        if (!String(item.link || '').trim()) no.push('link');
        if (!item.isoDate || item.isoDate === 'Invalid Date') no.push('date');
        if (no.length) missing.push(`item ${i + 1} (${JSON.stringify(String(item.title || '').slice(0, 40))}): no ${no.join(', ')}`);
      });
      out[file] = { items: feed.items.length, missing };
    } catch (e) {
      failed += 1;
      out[file] = { error: String((e && e.message) || e).split('\n')[0] };
    }
  }
  console.log(JSON.stringify(out));
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (rc) => { process.exitCode = rc; },
  (e) => { console.error(e); process.exitCode = 2; },
);
