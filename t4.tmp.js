require('esbuild').buildSync({entryPoints:['src/core/config/index.ts'],bundle:true,platform:'node',outfile:'/tmp/core.js',format:'cjs'});
const c=require('/tmp/core.js');
const txt='experiment:\n  id: x\n  \n  parameters:\n    model_type: rf\n    \n  run:\n    command: [a]\n';
let o=txt.indexOf('  \n')+2; console.log(c.completeAt(txt,o).map(e=>e.label));
o=txt.indexOf('    \n')+4; console.log(c.completeAt(txt,o).map(e=>e.label));
const t2='experiment:\n  random_seed: \n'; console.log(c.completeAt(t2, t2.indexOf(': ')+2));
console.log(c.hoverAt(txt, txt.indexOf('model_type')+3));
console.log(c.hoverAt(txt, txt.indexOf('command')+3));
