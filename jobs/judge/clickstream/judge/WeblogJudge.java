package clickstream.judge;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF0;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.catalyst.util.DateTimeUtils;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Option;

/**
 * The streaming job's reading of a Kafka record: the entry's fields, its event time and every reason it breaks a
 * contract rule for, from one parse of the record's bytes. The rules, their order and every reason's text come
 * from jobs/weblog_parse.py (judge_program), which reads them from the contract; this class only applies them.
 *
 * <p>Arguments: the record's value (bytes) and its Kafka timestamp in microseconds. Result: {@code entry} (the
 * contract's fields, each as Spark's from_json reads it: a string field holds any value's text, an integer
 * field null for anything but an integer), {@code event_micros} (the event time as Spark's own cast reads it,
 * truncated to milliseconds; null where it reads none) and {@code reasons} (joined by "; ", "" for a valid entry;
 * an oversized or non-UTF-8 record gets that one reason). The keys are read with the options of Spark's
 * json_object_keys and the values with those of from_json, one parse for both unless the record holds a control
 * character or is not an object for the first (test/jobs/test_weblog_parse.py holds both to Spark's own).
 */
public final class WeblogJudge implements UDF2<byte[], Long, Row> {
  private static final long serialVersionUID = 1L;
  /** The options of Spark's json_object_keys, so a text is an object exactly when Spark finds its keys. */
  private static final JsonFactory KEYS =
      new JsonFactoryBuilder()
          .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
          .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
          .build();
  /** The options of Spark's from_json (its JSONOptions' defaults): they differ from the above only in control
   * characters (refused) and NaN or Infinity (allowed). */
  private static final JsonFactory VALUES =
      new JsonFactoryBuilder()
          .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .build();
  /** A fraction of seven or more digits, cut to six before Spark's cast. */
  private static final Pattern LONG_FRACTION = Pattern.compile("(\\.[0-9]{6})[0-9]+");

  private final String notAnObject;
  private final String notUtf8;
  private final long maxBytes;
  private final String tooLarge;
  private final String[] names;
  private final boolean[] isString;
  private final Map<String, Integer> fieldIndex = new HashMap<>();
  /** The date-time fields, in the order of the program's timestamp rules' slots. */
  private final int[] timeFields;
  private final int eventSlot;
  private final Rule[] rules;

  public WeblogJudge(String program) throws IOException {
    JsonNode p = new ObjectMapper().readTree(program);
    notAnObject = p.get("notAnObject").asText();
    notUtf8 = p.get("notUtf8").asText();
    maxBytes = p.get("maxBytes").asLong();
    tooLarge = p.get("tooLarge").asText();
    JsonNode fields = p.get("fields");
    names = new String[fields.size()];
    isString = new boolean[fields.size()];
    for (int i = 0; i < fields.size(); i++) {
      names[i] = fields.get(i).get("name").asText();
      String type = fields.get(i).get("type").asText();
      if (!type.equals("string") && !type.equals("integer")) {
        throw new IllegalArgumentException("a field's type is string or integer: " + fields.get(i));
      }
      isString[i] = type.equals("string");
      fieldIndex.put(names[i], i);
    }
    JsonNode times = p.get("times");
    String eventTime = p.path("eventTime").asText(null);
    timeFields = new int[times.size()];
    int event = -1;
    for (int slot = 0; slot < times.size(); slot++) {
      timeFields[slot] = index(times.get(slot).asText());
      if (!isString[timeFields[slot]]) {
        throw new IllegalArgumentException("a date-time field is a string: " + times.get(slot));
      }
      if (times.get(slot).asText().equals(eventTime)) {
        event = slot;
      }
    }
    if (eventTime != null && event < 0) {
      throw new IllegalArgumentException("the event time is one of the program's times: " + eventTime);
    }
    eventSlot = event; // -1: no event time (event_micros null)
    List<Rule> built = new ArrayList<>();
    for (JsonNode r : p.get("rules")) {
      built.add(rule(r));
    }
    rules = built.toArray(new Rule[0]);
  }

  /** The judge as a Spark function of (value, Kafka micros), typed here so Spark knows its arguments. */
  public static UserDefinedFunction function(String program) throws IOException {
    WeblogJudge judge = new WeblogJudge(program);
    return functions.udf(judge, judge.resultType());
  }

  /**
   * A batch's time as a Spark function of no argument. A time constant is written into the code Spark generates for
   * a stage, so each batch's own constant made the stage's code new and compiled again; a function's value is not,
   * so every batch of a query runs the code compiled for its first.
   */
  public static UserDefinedFunction batchTime(long epochMicros) {
    Instant time = Instant.EPOCH.plus(epochMicros, ChronoUnit.MICROS);
    return functions.udf((UDF0<Instant>) () -> time, DataTypes.TimestampType);
  }

  /** The result's type: the entry as the contract's Spark schema, the event time and the reasons. */
  public StructType resultType() {
    StructField[] entry = new StructField[names.length];
    for (int i = 0; i < names.length; i++) {
      DataType type = isString[i] ? DataTypes.StringType : DataTypes.IntegerType;
      entry[i] = DataTypes.createStructField(names[i], type, true);
    }
    return DataTypes.createStructType(
        new StructField[] {
          DataTypes.createStructField("entry", DataTypes.createStructType(entry), true),
          DataTypes.createStructField("event_micros", DataTypes.LongType, true),
          DataTypes.createStructField("reasons", DataTypes.StringType, false)
        });
  }

  @Override
  public Row call(byte[] value, Long kafkaMicros) {
    boolean utf8 = value != null && isUtf8(value);
    Read read = value == null ? null : read(value, utf8);
    Object[] values = read == null ? new Object[names.length] : read.values;
    Long[] times = new Long[timeFields.length];
    for (int slot = 0; slot < times.length; slot++) {
      times[slot] = timeMicros(values[timeFields[slot]]);
    }
    String reasons;
    if (value != null && value.length > maxBytes) {
      reasons = tooLarge.replace("{bytes}", Integer.toString(value.length));
    } else if (value != null && !utf8) {
      reasons = notUtf8;
    } else if (read == null || read.keys == null) {
      reasons = notAnObject;
    } else {
      reasons = reasons(new Entry(values, read.keys, times, kafkaMicros, eventSlot));
    }
    return RowFactory.create(RowFactory.create(values), eventSlot < 0 ? null : times[eventSlot], reasons);
  }

  private String reasons(Entry e) {
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

  /** Whether Spark's decode would keep every byte (it replaces a malformed sequence with U+FFFD). */
  static boolean isUtf8(byte[] value) {
    for (byte b : value) {
      if (b < 0) {
        try {
          StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(value));
          return true;
        } catch (CharacterCodingException malformed) {
          return false;
        }
      }
    }
    return true;
  }

  /** A record read: its keys (null when not a JSON object) and its values (as from_json reads them). */
  static final class Read {
    Keys keys;
    Object[] values;
  }

  /** The record read once when it can be: the keys' options and the values' differ only on what it lacks. */
  private Read read(byte[] value, boolean utf8) {
    Read read = new Read();
    // Read as bytes only when Jackson finds the text Spark decodes there: UTF-8 (Spark's decode replaces each
    // malformed sequence), with no byte order mark or control byte (Jackson would take it for another encoding).
    boolean plain = utf8 && !hasControlByte(value) && !hasByteOrderMark(value);
    String text = plain ? null : new String(value, StandardCharsets.UTF_8);
    Object[] values = new Object[names.length];
    try (JsonParser parser = plain ? KEYS.createParser(value) : KEYS.createParser(text)) {
      read.keys = scan(parser, value, text, plain ? values : null);
    } catch (IOException malformed) {
      read.keys = null;
    }
    if (plain && read.keys != null) {
      read.values = values;
      return read;
    }
    read.values = new Object[names.length];
    try (JsonParser parser = plain ? VALUES.createParser(value) : VALUES.createParser(text)) {
      if (parser.nextToken() == JsonToken.START_OBJECT) {
        readValues(parser, read.values);
      }
    } catch (IOException malformed) {
      read.values = new Object[names.length]; // from_json reads no field of a text that breaks
    }
    return read;
  }

  private static boolean hasControlByte(byte[] value) {
    for (byte b : value) {
      if (b >= 0 && b < 0x20) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasByteOrderMark(byte[] value) {
    return value.length >= 3 && value[0] == (byte) 0xEF && value[1] == (byte) 0xBB && value[2] == (byte) 0xBF;
  }

  /** The top-level keys (null when not an object) and, when values is given, the values as from_json reads them. */
  private Keys scan(JsonParser parser, byte[] value, String text, Object[] values) throws IOException {
    if (parser.nextToken() != JsonToken.START_OBJECT) {
      return null;
    }
    Keys keys = new Keys(names.length);
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      Integer field = fieldIndex.get(parser.getCurrentName());
      JsonToken token = parser.nextToken();
      if (field == null) {
        keys.unexpected(parser.getCurrentName());
        parser.skipChildren();
        continue;
      }
      keys.present[field] = true;
      if (token == JsonToken.VALUE_STRING && opensWithQuote(parser, value, text)) {
        keys.quoted[field] = true;
      } else if (token == JsonToken.VALUE_NULL) {
        keys.literalNull[field] = true;
      }
      if (values != null) {
        convert(parser, field, values);
      } else {
        parser.skipChildren();
      }
    }
    return keys;
  }

  private static boolean opensWithQuote(JsonParser parser, byte[] value, String text) {
    return text == null
        ? value[(int) parser.getTokenLocation().getByteOffset()] == '"'
        : text.charAt((int) parser.getTokenLocation().getCharOffset()) == '"';
  }

  /** The contract's fields of an object, its opening read, as from_json reads them, step for step: the last of a
   * repeated key; a value it cannot read is skipped and the reading goes on (its partial result), so a text that
   * breaks inside a value may still give the fields after it, as Jackson picks the reading up again. */
  private void readValues(JsonParser parser, Object[] values) throws IOException {
    JsonToken token;
    while ((token = parser.nextToken()) != null && token != JsonToken.END_OBJECT) {
      Integer field = fieldIndex.get(parser.getCurrentName());
      if (field == null) {
        parser.skipChildren();
      } else {
        readValue(parser, field, values);
      }
    }
  }

  /** One field as from_json reads it, from its name or its value (read()): a value it cannot read leaves the
   * field as it was (null, or a repeated key's earlier value) and is skipped. */
  private void readValue(JsonParser parser, int field, Object[] values) throws IOException {
    try {
      if (parser.currentToken() == JsonToken.FIELD_NAME) {
        parser.nextToken();
      }
      convert(parser, field, values);
    } catch (IOException | RuntimeException unreadable) {
      parser.skipChildren();
    }
  }

  /** The value at the parser into the field: a string field takes any value's text, an integer field an integer
   * (anything else is skipped); a text that breaks throws, as it does for the key scan. */
  private void convert(JsonParser parser, int field, Object[] values) throws IOException {
    JsonToken token = parser.currentToken();
    if (token == null || token == JsonToken.VALUE_NULL) {
      values[field] = null;
    } else if (isString[field]) {
      values[field] = token == JsonToken.VALUE_STRING ? parser.getText() : textOf(parser);
    } else if (token == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() == JsonParser.NumberType.INT) {
      values[field] = parser.getIntValue();
    } else {
      parser.skipChildren();
    }
  }

  /** A value that is not a string, as from_json gives it to a string field: its JSON written again by a UTF-8
   * generator, as Spark's (which writes a surrogate as an escape). */
  private static String textOf(JsonParser parser) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator generator = VALUES.createGenerator(out, JsonEncoding.UTF8)) {
      generator.copyCurrentStructure(parser);
    }
    return new String(out.toByteArray(), StandardCharsets.UTF_8);
  }

  /** A date-time's instant in microseconds as Spark's cast reads it (the session's zone is UTC), upper case and
   * with its fraction cut to six digits (the cast reads no more), truncated to milliseconds; null where the cast
   * reads none. */
  static Long timeMicros(Object value) {
    if (!(value instanceof String)) {
      return null;
    }
    String text = (String) value;
    String upper = text.toUpperCase(Locale.ROOT);
    if (text.codePointCount(0, text.length()) >= 28) {
      upper = LONG_FRACTION.matcher(upper).replaceAll("$1");
    }
    if (secondsInUtc(upper)) {
      upper = upper.substring(0, upper.length() - 1);
    }
    Option<Object> micros = DateTimeUtils.stringToTimestamp(UTF8String.fromString(upper), ZoneOffset.UTC);
    if (micros.isEmpty()) {
      return null;
    }
    long m = (Long) micros.get();
    return m - Math.floorMod(m, 1000L);
  }

  /** Whether a time ends in seconds (with any fraction) and "Z": read without its "Z" in the session's zone, UTC, it
   * is the same instant, and Spark's cast does not look the zone up (a tenth of a parse's time). Only then: Spark
   * reads some shapes without a zone that it refuses with one ("13:05" but not "13:05Z"). */
  static boolean secondsInUtc(String time) {
    int last = time.length() - 2;
    if (last < 7 || time.charAt(last + 1) != 'Z') {
      return false;
    }
    int i = last;
    while (i >= 0 && isDigit(time.charAt(i))) {
      i--;
    }
    int seconds = i >= 0 && i < last && time.charAt(i) == '.' ? i - 1 : last;
    // The time's own seconds, after its "T" or space (not an offset's, "+01:00:00Z", which Spark refuses).
    return seconds >= 8
        && (time.charAt(seconds - 8) == 'T' || time.charAt(seconds - 8) == ' ')
        && isDigit(time.charAt(seconds))
        && isDigit(time.charAt(seconds - 1))
        && time.charAt(seconds - 2) == ':'
        && isDigit(time.charAt(seconds - 3))
        && isDigit(time.charAt(seconds - 4))
        && time.charAt(seconds - 5) == ':'
        && isDigit(time.charAt(seconds - 6))
        && isDigit(time.charAt(seconds - 7));
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** What the text's top level holds: the contract's keys found, how each value opens, and any other keys. */
  static final class Keys {
    final boolean[] present;
    final boolean[] quoted; // a value opening with a double quote
    final boolean[] literalNull;
    LinkedHashSet<String> unexpected;

    Keys(int fields) {
      present = new boolean[fields];
      quoted = new boolean[fields];
      literalNull = new boolean[fields];
    }

    void unexpected(String name) {
      if (unexpected == null) {
        unexpected = new LinkedHashSet<>();
      }
      unexpected.add(name);
    }
  }

  /** One entry as the rules read it. */
  static final class Entry {
    final Object[] values;
    final Keys keys;
    final Long[] times;
    final Long eventMicros;
    final Long kafkaMicros;

    Entry(Object[] values, Keys keys, Long[] times, Long kafkaMicros, int eventSlot) {
      this.values = values;
      this.keys = keys;
      this.times = times;
      this.eventMicros = eventSlot < 0 ? null : times[eventSlot];
      this.kafkaMicros = kafkaMicros;
    }

    Object value(int field) {
      return values[field];
    }
  }

  /** One rule: its reason when the entry breaks it, else null. */
  interface Rule extends Serializable {
    String broken(Entry e);
  }

  private int field(JsonNode rule, String key) {
    return index(rule.get(key).asText());
  }

  private int index(String name) {
    Integer index = fieldIndex.get(name);
    if (index == null) {
      throw new IllegalArgumentException("the program names a field it does not list: " + name);
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
        return e -> e.keys.unexpected == null ? null : reason + String.join(",", e.keys.unexpected);
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
          return onValue(r, reason, (v, e) -> e.times[slot] == null);
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
