require('esbuild').buildSync({entryPoints:['src/core/config/index.ts'],bundle:true,platform:'node',outfile:'/tmp/core.js',format:'cjs'});
const c=require('/tmp/core.js'); const Y=require('yaml');
function gen(lines){ let s='experiment:\n  id: "exp_20250101_001"\n  name: big\n  hypothesis: h\n  parameters:\n    model_type: rf\n'; const n=lines-6; const a=[]; for(let i=0;i<n;i++) a.push(`    p_${i}: ${i%7===0?'"s'+i+'"':(i/3).toFixed(3)}`); return s+a.join('\n')+'\n'; }
const txt=gen(5000);
const med=(f)=>{const ts=[];for(let i=0;i<15;i++){const t0=performance.now();f();ts.push(performance.now()-t0);}ts.sort((a,b)=>a-b);return ts[7].toFixed(1);};
console.log('validate', med(()=>c.validateExperiment(txt)));
console.log('parseDocument', med(()=>Y.parseDocument(txt,{uniqueKeys:false})));
console.log('parse+toJS', med(()=>Y.parseDocument(txt,{uniqueKeys:false}).toJS()));
console.log('Parser only', med(()=>{for (const _ of new Y.Parser().parse(txt));}));
console.log('Lexer only', med(()=>{for (const _ of new Y.Lexer().lex(txt));}));
