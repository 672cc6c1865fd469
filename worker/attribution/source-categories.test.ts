import { describe, expect, it } from "vitest";
import { sourceCategoryOf } from "./source-categories";

describe("sourceCategoryOf", () => {
  it.each([
    ["google", "search"],
    ["Google", "search"],
    ["www.google.com.br", "search"],
    ["images.google.de", "search"],
    ["mail.google.com", "email"],
    ["shopping.google.com", "shopping"],
    ["search.brave.com", "search"],
    ["m.facebook.com", "social"],
    ["www.instagram.com", "social"],
    ["youtu.be", "video"],
    ["www.pinterest.co.uk", "social"],
    ["amazon.co.jp", "shopping"],
  ])("%s is %s", (source, category) => {
    expect(sourceCategoryOf(source)).toBe(category);
  });

  it.each(["", "blog.example.org", "example.com", "co.uk", "notgoogle.com", "google.example.org"])(
    "does not know %j",
    (source) => {
      expect(sourceCategoryOf(source)).toBeNull();
    },
  );
});
