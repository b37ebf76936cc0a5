package clickstream.judge;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF5;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * The event contract's rules as one function: every reason an entry breaks a rule for, joined by "; ", or ""
 * for a valid entry. The rules, their order and every reason's text come from jobs/weblog_parse.py
 * (judge_program), which reads them from the contract; this class only applies them.
 *
 * <p>Arguments: the entry's text; the entry as Spark's from_json parsed it (the contract's fields in order);
 * each date-time field's time as Spark's own cast read it, in microseconds, null where it read none (in the
 * order of the program's timestamp rules); the event time and the Kafka timestamp in microseconds. The text
 * is scanned once, at its top level, for the keys it has and how each value opens; the values themselves are
 * from_json's, so both outputs see the same entry.
 */
public final class WeblogJudge implements UDF5<String, Row, Row, Long, Long, String> {
  private static final long serialVersionUID = 1L;
  /** The options of Spark's json_object_keys, so a text is an object exactly when Spark finds its keys. */
  private static final JsonFactory JSON =
      new JsonFactoryBuilder()
          .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
          .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
          .build();

  private final String notAnObject;
  private final Map<String, Integer> fieldIndex = new HashMap<>();
  private final Rule[] rules;

  public WeblogJudge(String program) throws IOException {
    JsonNode p = new ObjectMapper().readTree(program);
    notAnObject = p.get("notAnObject").asText();
    JsonNode names = p.get("fields");
    for (int i = 0; i < names.size(); i++) {
      fieldIndex.put(names.get(i).asText(), i);
    }
    List<Rule> built = new ArrayList<>();
    for (JsonNode r : p.get("rules")) {
      built.add(rule(r));
    }
    rules = built.toArray(new Rule[0]);
  }

  /** The judge as a Spark function of the five columns (typed here, so Spark knows its arguments' types). */
  public static UserDefinedFunction function(String program) throws IOException {
    return functions.udf(new WeblogJudge(program), DataTypes.StringType);
  }

  @Override
  public String call(String text, Row entry, Row times, Long eventMicros, Long kafkaMicros) {
    Keys keys = Keys.scan(text, fieldIndex);
    if (keys == null) {
      return notAnObject;
    }
    Entry e = new Entry(entry, keys, times, eventMicros, kafkaMicros);
    StringBuilder reasons = null;
    for (Rule rule : rules) {
      String reason = rule.broken(e);
      if (reason != null) {
        if (reasons == null) {
          reasons = new StringBuilder(reason);
        } else {
          reasons.append("; ").append(reason);
        }
      }
    }
    return reasons == null ? "" : reasons.toString();
  }

  /** What the text's top level holds: the contract's keys found, how each value opens, and any other keys. */
  static final class Keys {
    final boolean[] present;
    final boolean[] quoted; // a value opening with a double quote
    final boolean[] literalNull;
    final LinkedHashSet<String> unexpected = new LinkedHashSet<>();

    private Keys(int fields) {
      present = new boolean[fields];
      quoted = new boolean[fields];
      literalNull = new boolean[fields];
    }

    /** null when the text is not a JSON object. */
    static Keys scan(String text, Map<String, Integer> fieldIndex) {
      if (text == null) {
        return null;
      }
      Keys keys = new Keys(fieldIndex.size());
      try (JsonParser parser = JSON.createParser(text)) {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
          return null;
        }
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String name = parser.getCurrentName();
          JsonToken value = parser.nextToken();
          Integer field = fieldIndex.get(name);
          if (field == null) {
            keys.unexpected.add(name);
          } else {
            keys.present[field] = true;
            if (value == JsonToken.VALUE_STRING
                && text.charAt((int) parser.getTokenLocation().getCharOffset()) == '"') {
              keys.quoted[field] = true;
            } else if (value == JsonToken.VALUE_NULL) {
              keys.literalNull[field] = true;
            }
          }
          parser.skipChildren();
        }
        return keys;
      } catch (IOException malformed) {
        return null;
      }
    }
  }

  /** One entry as the rules read it. */
  static final class Entry {
    final Row values;
    final Keys keys;
    final Row times;
    final Long eventMicros;
    final Long kafkaMicros;

    Entry(Row values, Keys keys, Row times, Long eventMicros, Long kafkaMicros) {
      this.values = values;
      this.keys = keys;
      this.times = times;
      this.eventMicros = eventMicros;
      this.kafkaMicros = kafkaMicros;
    }

    Object value(int field) {
      return values == null ? null : values.get(field);
    }
  }

  /** One rule: its reason when the entry breaks it, else null. */
  interface Rule extends Serializable {
    String broken(Entry e);
  }

  private int field(JsonNode rule, String key) {
    Integer index = fieldIndex.get(rule.get(key).asText());
    if (index == null) {
      throw new IllegalArgumentException("rule names a field the program does not list: " + rule);
    }
    return index;
  }

  private Rule rule(JsonNode r) {
    String reason = r.path("reason").asText();
    switch (r.get("rule").asText()) {
      case "missing":
        {
          int f = field(r, "field");
          return e -> e.keys.present[f] ? null : reason;
        }
      case "unexpected":
        return e -> e.keys.unexpected.isEmpty() ? null : reason + String.join(",", e.keys.unexpected);
      case "notString":
        {
          int f = field(r, "field");
          return e -> e.keys.present[f] && e.value(f) != null && !e.keys.quoted[f] ? reason : null;
        }
      case "notInteger":
        {
          int f = field(r, "field");
          boolean nullable = r.get("nullable").asBoolean();
          return e ->
              e.keys.present[f] && e.value(f) == null && !(nullable && e.keys.literalNull[f])
                  ? reason
                  : null;
        }
      case "isNull":
        {
          int f = field(r, "field");
          return e -> e.keys.present[f] && e.value(f) == null ? reason : null;
        }
      case "pattern":
        {
          Pattern pattern = Pattern.compile(r.get("regex").asText());
          return onValue(r, reason, v -> !pattern.matcher(v.toString()).find());
        }
      case "format":
        {
          List<Format> formats = new ArrayList<>();
          r.get("formats").forEach(name -> formats.add(Format.named(name.asText())));
          return onValue(r, reason, v -> {
            String s = v.toString();
            for (Format format : formats) {
              if (format.matches(s)) {
                return false;
              }
            }
            return true;
          });
        }
      case "oneOf":
        {
          Set<Object> allowed = new HashSet<>();
          r.get("values").forEach(v -> allowed.add(comparable(v)));
          return onValue(r, reason, v -> !allowed.contains(comparable(v)));
        }
      case "minLength":
        {
          long limit = r.get("limit").asLong();
          return onValue(r, reason, v -> codePoints(v) < limit);
        }
      case "maxLength":
        {
          long limit = r.get("limit").asLong();
          return onValue(r, reason, v -> codePoints(v) > limit);
        }
      case "minimum":
        {
          long limit = r.get("limit").asLong();
          return onValue(r, reason, v -> ((Number) v).longValue() < limit);
        }
      case "maximum":
        {
          long limit = r.get("limit").asLong();
          return onValue(r, reason, v -> ((Number) v).longValue() > limit);
        }
      case "timestamp":
        {
          int slot = r.get("slot").asInt();
          return onValue(r, reason, (v, e) -> e.times.isNullAt(slot));
        }
      case "nullThen":
        {
          // The key is there with a null value (a missing key is its own reason).
          int when = field(r, "when");
          return valueThen(r, reason, e -> e.keys.present[when] && e.value(when) == null);
        }
      case "setThen":
        {
          int when = field(r, "when");
          return valueThen(r, reason, e -> e.value(when) != null);
        }
      case "equal":
        {
          int other = field(r, "other");
          return onValue(
              r,
              reason,
              (v, e) -> e.value(other) != null && !comparable(v).equals(comparable(e.value(other))));
        }
      case "notAfter":
        {
          long micros = r.get("micros").asLong();
          return e ->
              e.eventMicros != null && e.kafkaMicros != null && e.eventMicros > e.kafkaMicros + micros
                  ? reason
                  : null;
        }
      case "notBefore":
        {
          long micros = r.get("micros").asLong();
          return e ->
              e.eventMicros != null && e.kafkaMicros != null && e.eventMicros < e.kafkaMicros - micros
                  ? reason
                  : null;
        }
      default:
        throw new IllegalArgumentException("unknown rule: " + r);
    }
  }

  /** What a rule finds wrong with a value that is there (not null). */
  interface ValueCheck extends Serializable {
    boolean broken(Object value, Entry e);
  }

  /** What a rule finds wrong with a value alone. */
  interface PlainCheck extends Serializable {
    boolean broken(Object value);
  }

  /** What decides whether a conditional rule applies to an entry. */
  interface Condition extends Serializable {
    boolean holds(Entry e);
  }

  /** A rule over the value of the rule's field: null values break none of these (Spark SQL's three values). */
  private Rule onValue(JsonNode r, String reason, ValueCheck check) {
    int f = field(r, "field");
    return e -> {
      Object v = e.value(f);
      return v != null && check.broken(v, e) ? reason : null;
    };
  }

  private Rule onValue(JsonNode r, String reason, PlainCheck check) {
    return onValue(r, reason, (v, e) -> check.broken(v));
  }

  /** When the condition holds, the rule's field must hold the rule's value. */
  private Rule valueThen(JsonNode r, String reason, Condition applies) {
    Object expected = comparable(r.get("value"));
    return onValue(r, reason, (v, e) -> applies.holds(e) && !expected.equals(comparable(v)));
  }

  /** The formats of JSON Schema it checks itself, each the whole text (date-time is read by Spark's cast). */
  enum Format {
    UUID {
      @Override
      boolean matches(String s) {
        if (s.length() != 36) {
          return false;
        }
        for (int i = 0; i < 36; i++) {
          char c = s.charAt(i);
          boolean ok = i == 8 || i == 13 || i == 18 || i == 23 ? c == '-' : Character.digit(c, 16) >= 0 && c < 128;
          if (!ok) {
            return false;
          }
        }
        return true;
      }
    },
    IPV4 {
      @Override
      boolean matches(String s) {
        int octets = 0;
        int i = 0;
        int n = s.length();
        while (true) {
          int start = i;
          int value = 0;
          while (i < n && i - start < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            value = value * 10 + (s.charAt(i) - '0');
            i++;
          }
          int digits = i - start;
          if (digits == 0 || value > 255 || (digits > 1 && s.charAt(start) == '0')) {
            return false;
          }
          octets++;
          if (octets == 4) {
            return i == n;
          }
          if (i >= n || s.charAt(i) != '.') {
            return false;
          }
          i++;
        }
      }
    },
    IPV6 {
      private final Pattern pattern = Pattern.compile(IPV6_PATTERN);

      @Override
      boolean matches(String s) {
        return pattern.matcher(s).find();
      }
    };

    abstract boolean matches(String s);

    static Format named(String name) {
      switch (name) {
        case "uuid":
          return UUID;
        case "ipv4":
          return IPV4;
        case "ipv6":
          return IPV6;
        default:
          throw new IllegalArgumentException("unknown format: " + name);
      }
    }
  }

  /** An IPv4 address inside an IPv6 one, and one group of hex digits. */
  private static final String V4 = "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3})";
  private static final String H = "[0-9a-f]{1,4}";
  /** The IPv6 pattern of ajv-formats (the generator's validator), so both validators agree on every address. */
  private static final String IPV6_PATTERN =
      "(?i)^(((" + H + ":){7}(" + H + "|:))|((" + H + ":){6}(:" + H + "|" + V4 + "|:))"
          + "|((" + H + ":){5}(((:" + H + "){1,2})|:" + V4 + "|:))"
          + "|((" + H + ":){4}(((:" + H + "){1,3})|((:" + H + ")?:" + V4 + ")|:))"
          + "|((" + H + ":){3}(((:" + H + "){1,4})|((:" + H + "){0,2}:" + V4 + ")|:))"
          + "|((" + H + ":){2}(((:" + H + "){1,5})|((:" + H + "){0,3}:" + V4 + ")|:))"
          + "|((" + H + ":){1}(((:" + H + "){1,6})|((:" + H + "){0,4}:" + V4 + ")|:))"
          + "|(:(((:" + H + "){1,7})|((:" + H + "){0,5}:" + V4 + ")|:)))\\z";

  /** Strings compare as text, integers as numbers. */
  private static Object comparable(Object v) {
    return v instanceof Number ? (Object) ((Number) v).longValue() : v;
  }

  private static Object comparable(JsonNode v) {
    return v.isIntegralNumber() ? (Object) v.asLong() : v.asText();
  }

  private static long codePoints(Object v) {
    String s = v.toString();
    return s.codePointCount(0, s.length());
  }
}
