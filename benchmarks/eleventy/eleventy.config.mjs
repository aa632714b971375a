// The Eleventy 3 project `python benchmarks/build.py --compare eleventy` builds:
// the benchmark's stories, members, events and pages, as an Eleventy user would
// set them up (see eleventy_site in build.py for what it builds and what not).
import syntaxHighlight from "@11ty/eleventy-plugin-syntaxhighlight";

const day = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: "UTC",
});
const moment = new Intl.DateTimeFormat("en-GB", {
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
  timeZoneName: "short",
});

function byFileSlug(items) {
  return Object.fromEntries(items.map((item) => [item.fileSlug, item]));
}

function byKey(items, key) {
  const found = {};
  for (const item of items) {
    for (const value of [].concat(item.data[key] ?? [])) {
      (found[value] ??= []).push(item);
    }
  }
  return found;
}

export default function (eleventyConfig) {
  eleventyConfig.addPlugin(syntaxHighlight);
  eleventyConfig.addPassthroughCopy("content/assets");

  const stories = (api) => api.getFilteredByGlob("content/stories/*.md");
  eleventyConfig.addCollection("storyList", stories);
  eleventyConfig.addCollection("eventList", (api) =>
    api.getFilteredByGlob("content/events/*.md"),
  );
  eleventyConfig.addCollection("memberList", (api) =>
    api.getFilteredByGlob("content/members/*.md"),
  );
  eleventyConfig.addCollection("memberById", (api) =>
    byFileSlug(api.getFilteredByGlob("content/members/*.md")),
  );
  eleventyConfig.addCollection("eventById", (api) =>
    byFileSlug(api.getFilteredByGlob("content/events/*.md")),
  );
  eleventyConfig.addCollection("storiesByAuthor", (api) => byKey(stories(api), "authors"));
  eleventyConfig.addCollection("recapsByEvent", (api) => byKey(stories(api), "event"));
  eleventyConfig.addCollection("tagList", (api) =>
    [...new Set(api.getAll().flatMap((item) => item.data.tags ?? []))].sort(),
  );

  eleventyConfig.addFilter("readableDate", (date) => day.format(date));
  eleventyConfig.addFilter("readableMoment", (date) => moment.format(date));
  eleventyConfig.addFilter("isoDate", (date) => date.toISOString());
  eleventyConfig.addFilter("kind", (items, kind) => items.filter((i) => i.data.kind === kind));
  eleventyConfig.addFilter("latest", (items, n) => items.slice(-n).reverse());
  eleventyConfig.addFilter("upcoming", (events, now = new Date()) =>
    events.filter((e) => (e.data.end ?? e.data.start) > now),
  );
  // The first words of a rendered page, as a card's summary.
  eleventyConfig.addFilter("summary", (html) => {
    const text = String(html).slice(0, 1200).replace(/<[^>]*>/g, " ");
    const words = text.replace(/\s+/g, " ").trim().slice(0, 200);
    return words.length < 200 ? words : words.replace(/\s\S*$/, "") + "…";
  });
}
