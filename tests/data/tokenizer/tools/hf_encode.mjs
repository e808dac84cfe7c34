import { Tokenizer } from "@huggingface/tokenizers";
import fs from "fs";
const [,, tokPath, textsPath, outPath] = process.argv;
const tok = new Tokenizer(JSON.parse(fs.readFileSync(tokPath, "utf8")), {});
const texts = JSON.parse(fs.readFileSync(textsPath, "utf8"));
const out = texts.map(t => { const ids = tok.encode(t, { add_special_tokens: false }).ids; return { ids, decoded: ids.length ? tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) : "" }; });
fs.writeFileSync(outPath, JSON.stringify(out));
console.log("encoded", texts.length);
