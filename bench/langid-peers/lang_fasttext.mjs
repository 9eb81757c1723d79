// lang_fasttext.mjs: fastText lid.176's language of each item (bench/lang_items.py's file
// on standard input), through npm's fasttext.wasm.js (which ships lid.176.ftz), mapped to
// samtale's codes, one a line. The raw label is read (the wrapper's own names turn lid.176's
// "nn" into "no"): "no" (bokmål) nb, "nn" nn, da, sv and en as they are, anything else
// other (lid.176 always answers). For bench/lang_compare.sh only.
import { getLIDModel } from 'fasttext.wasm.js'
import { createInterface } from 'node:readline'

const model = await (await getLIDModel()).load()
const out = []
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const text = line.split('\t').slice(3).join('\t')
  const top = model.predict(text, 1, 0)
  let code = top.size() > 0 ? top.get(0)[1].replace('__label__', '') : ''
  if (code === 'no') code = 'nb'
  else if (!['nn', 'da', 'sv', 'en'].includes(code)) code = 'other'
  out.push(code)
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''))
