require('esbuild').buildSync({entryPoints:['src/core/config/index.ts'],bundle:true,platform:'node',outfile:'/tmp/core.js',format:'cjs'});
const c=require('/tmp/core.js');
function gen(lines){ let s='experiment:\n  id: "exp_20250101_001"\n  name: big\n  hypothesis: h\n  parameters:\n    model_type: rf\n'; const n=lines-6; const a=[]; for(let i=0;i<n;i++) a.push(`    p_${i}: ${i%7===0?'"s'+i+'"':(i/3).toFixed(3)}`); return s+a.join('\n')+'\n'; }
for (const n of [60, 5000, 100000, 400000]) { const txt=gen(n); const t0=performance.now(); const r=c.validateExperiment(txt); const t1=performance.now(); console.log(n, (txt.length/1e6).toFixed(2)+'MB', (t1-t0).toFixed(1)+'ms', r.problems.length); }
// duplicate keys 20k
{ let s='experiment:\n  id: "exp_20250101_001"\n  name: big\n  hypothesis: h\n  parameters:\n    model_type: rf\n'; for(let i=0;i<20000;i++) s+=`    k${i%10000}: 1\n`; const t0=performance.now(); const r=c.validateExperiment(s); console.log('dups', (performance.now()-t0).toFixed(1), r.problems.length); }
// alias bomb
{ const s='a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n'; const t0=performance.now(); const r=c.validateExperiment(s); console.log('bomb', (performance.now()-t0).toFixed(1), r.problems.map(p=>p.code)); }
