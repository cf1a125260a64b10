
set terminal pngcairo size 1400,900 font 'Sans,10'
set output 'results.png'
set datafile missing '-'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.8:*]
set grid ytics
set xtics rotate by -30 scale 0
set key outside right top
set multiplot layout 2,1 title 'Allocator benchmark (11 workloads, median of 3 round(s)) — lower is better; 1.0 = best allocator on that workload'
set title 'Wall time relative to the fastest'
set ylabel 'time / fastest (log scale)'
plot 'chart.dat' using 2:xtic(1) title 'glibc' lc rgb '#7f7f7f', 'chart.dat' using 3:xtic(1) title 'ours' lc rgb '#d62728', 'chart.dat' using 4:xtic(1) title 'je53' lc rgb '#1f77b4', 'chart.dat' using 5:xtic(1) title 'mi' lc rgb '#2ca02c', 'chart.dat' using 6:xtic(1) title 'tc' lc rgb '#ff7f0e'
set title 'Peak RSS relative to the smallest'
set ylabel 'RSS / smallest (log scale)'
plot 'chart.dat' using 7:xtic(1) notitle lc rgb '#7f7f7f', 'chart.dat' using 8:xtic(1) notitle lc rgb '#d62728', 'chart.dat' using 9:xtic(1) notitle lc rgb '#1f77b4', 'chart.dat' using 10:xtic(1) notitle lc rgb '#2ca02c', 'chart.dat' using 11:xtic(1) notitle lc rgb '#ff7f0e'
unset multiplot
