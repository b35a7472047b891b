require('esbuild').buildSync({entryPoints:['src/core/config/index.ts'],bundle:true,platform:'node',outfile:'/tmp/core.js',format:'cjs'});
const c=require('/tmp/core.js'); const fs=require('fs');
for (const f of process.argv.slice(2)) { const txt=fs.readFileSync(f,'utf8'); const r=c.validateExperiment(txt);
 for (const p of c.placeProblems(txt,r.problems)) console.log(`${f}:${p.line}:${p.column}-${p.endLine}:${p.endColumn} ${p.severity} ${p.code} ${p.message}`);
 for (const p of r.problems) if(p.fixes) console.log('  fix:', JSON.stringify(p.fixes)); console.log(r.experimentId); }
