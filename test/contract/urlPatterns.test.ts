// Which URL patterns the config check accepts: the examples of contract/url-patterns.json, which the
// streaming job's own check (jobs/url_patterns.py) is tested against too.
import examples from "../../contract/url-patterns.json";
import { ACCESS_LOG_DEFAULTS, invalidAccessLogSetting } from "../../contract/accessLogSettings";
import { urlPatternProblem } from "../../contract/urlPatterns";

describe("access-log URL patterns", () => {
  it.each(examples.accepted)("accepts %s, which no URL can make backtrack for long", (pattern) => {
    expect(urlPatternProblem(pattern)).toBeUndefined();
    expect(invalidAccessLogSetting({ ...ACCESS_LOG_DEFAULTS, productUrlPattern: pattern })).toBeUndefined();
  });

  it.each(examples.refused.map((r) => [r.pattern, r.problem]))("refuses %s: %s", (pattern, problem) => {
    expect(urlPatternProblem(pattern)).toBe(problem);
  });

  it("refuses the pattern that stalled the stream for seconds, saying which repetition and why", () => {
    const pattern = "^/products/(?<product_id>.*)-(.*)-(.*)-(.*)/details$";
    expect(urlPatternProblem(pattern)).toBe(
      "the repetition of . can also match the - that may follow it, and another repetition comes later, so a long URL makes the matcher backtrack for seconds",
    );
    expect(invalidAccessLogSetting({ ...ACCESS_LOG_DEFAULTS, productUrlPattern: pattern })).toBe("productUrlPattern");
  });

  it("refuses nested repetitions and backreferences by name", () => {
    expect(urlPatternProblem("^/p/(?<product_id>(?:a+)+)$")).toMatch(/nested quantifiers/);
    expect(urlPatternProblem("^/p/(?<product_id>\\d+)/\\1$")).toMatch(/escape \\1 is not accepted/);
  });

  it("passes on an error that is not a refusal: a class JavaScript cannot compile, met while comparing repetitions", () => {
    expect(() => urlPatternProblem("^/p/[z-a]*x+(?<product_id>\\d)$")).toThrow(SyntaxError);
  });
});
