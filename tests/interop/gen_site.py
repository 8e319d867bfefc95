#!/usr/bin/env python3
"""gen_site.py - a deterministic Jekyll-style blog for the interop suite, so that it needs
nothing beside the repository: posts with front matter in the forms real blogs use, titles
with markup characters and Unicode, categories, tags, authors, images and Markdown bodies.

Usage: gen_site.py --posts N --seed S --out DIR
Writes DIR/_posts/YYYY-MM-DD-slug.md (N posts) and DIR/_data/authors.yml. Same (N, seed),
same bytes: standard library only, no clock.
"""
import argparse
import datetime as dt
import os
import random

CATEGORIES = ["Operations", "Engineering", "Design", "Product News", "Culture", "Security"]
TAGS = ["rust", "http", "caching", "on-call", "release", "postmortem", "ux", "api", "feeds", "ops"]
AUTHORS = {
    "tim": ("Tim Ward", "tim@example.com"),
    "ann": ("Ann Example", "ann@example.com"),
    "ryo": ("山田 亮", "ryo@example.com"),
    "zoe": ("Zoë O’Brien", None),
}
WORDS = ("deploy queue cache header feed reader server page post latency budget alert "
         "rollback review index search editor draft shard replica bucket token").split()
TITLES = ["Notes on {w}", "Why {w} & {v} matter", "The <{w}> problem", "“{w}” revisited",
          "{w}: a field guide 🚀", "Ten years of {w}", "{w}, {v} and us"]


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def body(rng):
    parts = [words(rng, rng.randint(20, 60)).capitalize() + "."]
    for _ in range(rng.randint(1, 5)):
        kind = rng.randint(0, 5)
        if kind == 0:
            parts.append("## " + words(rng, 3).capitalize())
        elif kind == 1:
            parts.append("\n".join("- " + words(rng, 4) for _ in range(rng.randint(2, 4))))
        elif kind == 2:
            parts.append("```\nif a < b && c > d { go() }\n```")
        elif kind == 3:
            parts.append(">first line  \n>second line  \n>third line")
        elif kind == 4:
            parts.append("See [the about page](/about/) and ![a chart](/images/chart-%d.png)." % rng.randint(1, 9))
        else:
            parts.append(words(rng, rng.randint(30, 90)).capitalize() + " <em>really</em>.")
    return "\n\n".join(parts) + "\n"


def quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "_posts"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "_data"), exist_ok=True)
    with open(os.path.join(args.out, "_data", "authors.yml"), "w", encoding="utf-8") as f:
        for key, (name, email) in AUTHORS.items():
            f.write("%s:\n  name: %s\n" % (key, quoted(name)))
            if email:
                f.write("  email: %s\n" % email)
    start = dt.datetime(2013, 1, 1, 9, 0, 0)
    for n in range(args.posts):
        when = start + dt.timedelta(days=n * 4000 // max(args.posts, 1), minutes=rng.randint(0, 600))
        title = rng.choice(TITLES).format(w=rng.choice(WORDS), v=rng.choice(WORDS))
        slug = "post-%d-%s" % (n, rng.choice(WORDS))
        front = ["title: " + quoted(title), "author: " + rng.choice(sorted(AUTHORS))]
        front.append("category: " + quoted(rng.choice(CATEGORIES)))
        tags = rng.sample(TAGS, rng.randint(0, 3))
        if tags:
            front.append("tags: [%s]" % ", ".join(tags))
        style = rng.randint(0, 2)
        if style == 0:
            front.append("date: %s +0000" % when.strftime("%Y-%m-%d %H:%M:%S"))
        elif style == 1:
            front.append("date: '%s+00:00'" % when.strftime("%Y-%m-%dT%H:%M:%S"))
        if rng.randint(0, 3) == 0:
            front.append("image: /images/cover-%d.jpg" % rng.randint(1, 20))
        name = "%s-%s.md" % (when.strftime("%Y-%m-%d"), slug)
        with open(os.path.join(args.out, "_posts", name), "w", encoding="utf-8") as f:
            f.write("---\n" + "\n".join(front) + "\n---\n\n" + body(rng))


if __name__ == "__main__":
    main()
