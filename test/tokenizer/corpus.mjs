// The tokenizer test corpus: fragments of many scripts and formats, joined
// by a seeded generator into at least 2,000 strings (the same every run).
const pools = {
  english: ["The quick brown fox jumps over the lazy dog.", "Large language models are trained on text.",
    "Hello, World!", "It's a beautiful day; isn't it?", "e-mail: someone@example.com",
    "https://example.com/path?query=1&x=2#frag", "ALL CAPS SENTENCE HERE", "Give me a short introduction to large language model.",
    "Mr. O'Neil's rock'n'roll band", "(parentheses) [brackets] {braces} <angles>", "a-b_c.d/e\\f|g", "naïve façade coöperate",
    "Straße und Fluß", "ﬁne ﬂour", "ǅemal", "¿Qué pasa? ¡Nada!", "C'est la vie, n'est-ce pas ?"],
  contractions: ["I'm", "I'M", "you're", "YOU'RE", "You'Re", "we've", "WE'VE", "they'll", "THEY'LL", "he'd", "HE'D",
    "it's", "IT'S", "don't", "DON'T", "Don'T", "y'all", "'s", "'S", "'ll", "'LL", "ſ's", "x'ſ", "'re'd'm"],
  chinese: ["你好，世界！", "大型语言模型是一种人工智能。", "我爱北京天安门", "今天天气很好，我们去公园散步吧。",
    "中华人民共和国成立于1949年10月1日。", "「引号」与《书名号》……", "繁體中文測試"],
  japanese: ["こんにちは世界", "日本語のテキストをトークン化します。", "カタカナとひらがな、漢字。", "東京は２０２４年に", "ｶﾀｶﾅ半角"],
  korean: ["안녕하세요, 세계!", "한국어 문장을 토큰화합니다.", "대한민국의 수도는 서울입니다.", "ㅋㅋㅋ ㅎㅎ"],
  arabic: ["مرحبا بالعالم", "اللغة العربية جميلة جداً.", "٣٤٥ رقم عربي", "السَّلَامُ عَلَيْكُمْ"],
  hindi: ["नमस्ते दुनिया", "भारत एक विशाल देश है।", "हिन्दी में १२३ अंक", "क्षत्रिय"],
  russian: ["Привет, мир!", "Большие языковые модели обучаются на тексте.", "ЁЛКИ-ПАЛКИ", "съешь же ещё этих мягких французских булок"],
  other: ["Γειά σου Κόσμε", "שלום עולם", "สวัสดีชาวโลก", "Xin chào thế giới", "Tiếng Việt có dấu", "ሰላም ልዑል", "Բարեւ աշխարհ"],
  emoji: ["👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏿‍💻", "🇯🇵🇺🇸", "❤️‍🔥", "🧑🏻‍🤝‍🧑🏿", "😀😃😄", "🤷‍♀️", "✌🏼", "🫠", "👁️‍🗨️", "1️⃣"],
  code: ["def f(x):\n\treturn x * 2\n", "int main() {\n    if (x) {\n        for (;;) {\n            return 0;\n        }\n    }\n}",
    "\t\t\tdeeply\n\t\t\t\tindented\n\t\t\t\t\tmore", "                x = [1, 2, 3]", "console.log(`a ${b}`);",
    "SELECT * FROM t WHERE id = 42;", "#include <stdio.h>\r\nint x;\r\n", "if (a != b && c >= d) { y += 1; }",
    "  - item: 1\n    name: \"yaml\"\n", "<div class=\"x\">&nbsp;</div>", "fn main() -> Result<(), Box<dyn Error>> {}",
    "\t\n\t\n", "x=1;;;;", "// comment\n/* block */", "$ ls -la | grep '^d'"],
  numbers: ["3.14159", "1,000,000", "2024-11-24", "12:30:45", "$19.99", "1e-10", "0x1F", "+49 (0) 30 1234567",
    "½ ¾ ²³", "Ⅻ", "①②③", "123456789012345678901234567890", "24/11/2026", "Nov 24, 2026", "-273.15°C", "50%"],
  whitespace: [" ", "  ", "   ", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\t", " \n ", "  \n\n  ", "\u00a0", "\u3000",
    "\u2003", "\r", " \t \t", "\n \n", "    \n"],
  combining: ["e\u0301", "A\u030A", "n\u0303o", "\u1100\u1161\u11a8", "o\u0308", "Cafe\u0301", "A\u0301\u0302", "i\u0307",
    "a\u0323\u0302", "\u0915\u093c", "Ω", "K"],
  specials: ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "<|fim_prefix|>",
    "<tool_call>", "<|im_start|><|im_end|>", "<|im_start", "im_end|>"],
};
const separators = ["", " ", "  ", "\n", "\r\n", "\t", "\n\n", "   \n", " \n\n", ". ", ", "];

function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildCorpus(extra = []) {
  const rand = mulberry32(20261124);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const names = Object.keys(pools);
  const corpus = [];
  for (const n of names) corpus.push(...pools[n]);
  corpus.push(...extra);
  while (corpus.length < 2200) {
    const parts = 1 + Math.floor(rand() * 4);
    let s = "";
    for (let i = 0; i < parts; i++) s += (i ? pick(separators) : "") + pick(pools[pick(names)]);
    corpus.push(s);
  }
  // A few long ones: runs of spaces and newlines, a long code file.
  corpus.push(" ".repeat(300) + "x", "\n".repeat(100), "a".repeat(500), pools.code.join("\n").repeat(5));
  return corpus;
}

export function fragmentsText() { return Object.values(pools).flat().join("\n"); }
