package perfdata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// A Zstandard decoder (RFC 8878) for PERF_RECORD_COMPRESSED payloads
// (perf record -z). It decodes whole frames held in memory; no
// dictionaries, checksums are skipped (perf does not ask for them).

var errZstdShort = errors.New("zstd: frame continues past the data")

const (
	zstdMagic       = 0xFD2FB528
	zstdMaxBlock    = 128 << 10
	zstdMaxFrameOut = 256 << 20 // bound on a frame's window and content size
)

func zstdErr(format string, args ...any) error {
	return fmt.Errorf("zstd: "+format, args...)
}

// zstdStream decodes a stream of Zstandard frames fed in pieces, as perf
// writes them: perf flushes its compression stream at each COMPRESSED
// record without ending the frame, so blocks are decoded as soon as they
// are whole, and only the frame's window of history is kept.
type zstdStream struct {
	pending  []byte // input not yet decoded
	inFrame  bool
	checksum bool
	sumLeft  bool // the last block is done; a 4-byte checksum follows
	window   int
	d        zstdDecoder
	hist     []byte // the last window bytes of the frame's output
}

// decode decodes every whole frame header, block and checksum in
// pending, appending the content to out.
func (z *zstdStream) decode(out []byte) ([]byte, error) {
	src := z.pending
	defer func() {
		n := copy(z.pending, src)
		z.pending = z.pending[:n]
	}()
	for len(src) > 0 {
		if z.sumLeft {
			if len(src) < 4 {
				return out, nil
			}
			src = src[4:]
			z.sumLeft, z.inFrame = false, false
			continue
		}
		if !z.inFrame {
			n, err := z.frameHeader(src)
			if err == errZstdShort {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			src = src[n:]
			continue
		}
		if len(src) < 3 {
			return out, nil
		}
		bh := uint32(src[0]) | uint32(src[1])<<8 | uint32(src[2])<<16
		last := bh&1 != 0
		btype := (bh >> 1) & 3
		size := int(bh >> 3)
		if size > zstdMaxBlock {
			return out, zstdErr("block of %d bytes", size)
		}
		need := 3 + size
		if btype == 1 {
			need = 4
		}
		if len(src) < need {
			return out, nil
		}
		buf := z.hist
		start := len(buf)
		switch btype {
		case 0:
			buf = append(buf, src[3:3+size]...)
		case 1:
			for i := 0; i < size; i++ {
				buf = append(buf, src[3])
			}
		case 2:
			var err error
			if buf, err = z.d.block(buf, src[3:3+size]); err != nil {
				return out, err
			}
		default:
			return out, zstdErr("reserved block type")
		}
		out = append(out, buf[start:]...)
		if len(buf) > 2*z.window+zstdMaxBlock {
			// Keep the window; compacting only now and then keeps the
			// copying linear.
			n := copy(buf, buf[len(buf)-z.window:])
			buf = buf[:n]
		}
		z.hist = buf
		src = src[need:]
		if last {
			z.hist = z.hist[:0]
			if z.checksum {
				z.sumLeft = true
			} else {
				z.inFrame = false
			}
		}
	}
	return out, nil
}

// frameHeader starts a frame (or skips a skippable one); it returns the
// bytes used.
func (z *zstdStream) frameHeader(src []byte) (int, error) {
	if len(src) < 4 {
		return 0, errZstdShort
	}
	magic := binary.LittleEndian.Uint32(src)
	if magic&0xFFFFFFF0 == 0x184D2A50 { // skippable frame
		if len(src) < 8 {
			return 0, errZstdShort
		}
		n := 8 + int(binary.LittleEndian.Uint32(src[4:]))
		if n > len(src) {
			return 0, errZstdShort
		}
		return n, nil
	}
	if magic != zstdMagic {
		return 0, zstdErr("bad frame magic %#x", magic)
	}
	if len(src) < 5 {
		return 0, errZstdShort
	}
	fhd := src[4]
	p := 5
	single := fhd&0x20 != 0
	if fhd&0x08 != 0 {
		return 0, zstdErr("reserved frame header bit set")
	}
	window := 0
	if !single {
		if len(src) < 6 {
			return 0, errZstdShort
		}
		wd := src[5]
		wlog := 10 + int(wd>>3)
		if wlog > 28 {
			return 0, zstdErr("window of 2^%d bytes", wlog)
		}
		window = 1<<wlog + (1<<wlog)/8*int(wd&7)
		p++
	}
	dictSize := [4]int{0, 1, 2, 4}[fhd&3]
	dictStart := p
	p += dictSize
	fcsSize := [4]int{0, 2, 4, 8}[fhd>>6]
	if fhd>>6 == 0 && single {
		fcsSize = 1
	}
	fcsStart := p
	p += fcsSize
	if p > len(src) {
		return 0, errZstdShort
	}
	var dict uint64
	for i, b := range src[dictStart : dictStart+dictSize] {
		dict |= uint64(b) << (8 * i)
	}
	if dict != 0 {
		return 0, zstdErr("frame needs dictionary %d", dict)
	}
	if single {
		var fcs uint64
		for i, b := range src[fcsStart : fcsStart+fcsSize] {
			fcs |= uint64(b) << (8 * i)
		}
		if fcsSize == 2 {
			fcs += 256
		}
		if fcs > zstdMaxFrameOut {
			return 0, zstdErr("frame content of %d bytes", fcs)
		}
		window = int(fcs)
	}
	z.inFrame, z.checksum, z.window = true, fhd&0x04 != 0, window
	z.d = zstdDecoder{rep: [3]int{1, 4, 8}, lits: z.d.lits}
	z.hist = z.hist[:0]
	return p, nil
}

// fseEntry is one state of an FSE decoding table.
type fseEntry struct {
	sym    uint8
	nbBits uint8
	base   uint16
}

type fseTable struct {
	log     int
	entries []fseEntry
}

// huffEntry is one slot of a Huffman decoding table.
type huffEntry struct {
	sym    uint8
	nbBits uint8
}

type zstdDecoder struct {
	rep        [3]int
	huff       []huffEntry
	huffLog    int
	ll, of, ml *fseTable
	lits       []byte
}

// fwdBits reads little-endian bits from the start of a buffer.
type fwdBits struct {
	b   []byte
	pos int // in bits
}

func (r *fwdBits) peek32() uint32 {
	var v uint64
	i := r.pos >> 3
	for k := 0; k < 5 && i+k < len(r.b); k++ {
		v |= uint64(r.b[i+k]) << (8 * k)
	}
	return uint32(v >> (r.pos & 7))
}

// revBits reads a zstd backward bit stream: from the end, after the
// padding marker bit.
type revBits struct {
	b     []byte
	valid int // bits not yet read
}

func newRevBits(b []byte) (revBits, error) {
	if len(b) == 0 || b[len(b)-1] == 0 {
		return revBits{}, zstdErr("bit stream without end marker")
	}
	return revBits{b: b, valid: 8*(len(b)-1) + bits.Len8(b[len(b)-1]) - 1}, nil
}

// peek returns the next n (<= 56) bits; bits before the stream read as 0.
func (r *revBits) peek(n int) uint64 {
	if n == 0 {
		return 0
	}
	start := r.valid - n
	var v uint64
	if start >= 0 {
		i := start >> 3
		for k := 0; k < 8 && i+k < len(r.b); k++ {
			v |= uint64(r.b[i+k]) << (8 * k)
		}
		v >>= start & 7
	} else {
		// Pad below the start with zeros.
		for k := 0; k < 8 && k < len(r.b); k++ {
			v |= uint64(r.b[k]) << (8 * k)
		}
		if r.valid < 64 {
			v &= 1<<r.valid - 1
		}
		v <<= -start
	}
	return v & (1<<n - 1)
}

func (r *revBits) read(n int) uint64 {
	v := r.peek(n)
	r.valid -= n
	return v
}

// readFSETable reads an FSE table description (normalized counts) and
// builds its decoding table; it returns the bytes used.
func readFSETable(b []byte, maxSym, maxLog int) (*fseTable, int, error) {
	r := fwdBits{b: b}
	if len(b) == 0 {
		return nil, 0, zstdErr("empty FSE table description")
	}
	log := int(r.peek32()&15) + 5
	r.pos += 4
	if log > maxLog {
		return nil, 0, zstdErr("FSE accuracy log %d over %d", log, maxLog)
	}
	norm := make([]int, 0, maxSym+1)
	remaining := 1<<log + 1
	threshold := 1 << log
	nbBits := log + 1
	prev0 := false
	for remaining > 1 && len(norm) <= maxSym {
		if r.pos > 8*len(b) {
			return nil, 0, zstdErr("FSE table description cut short")
		}
		if prev0 {
			for {
				rep := int(r.peek32() & 3)
				r.pos += 2
				for i := 0; i < rep; i++ {
					norm = append(norm, 0)
				}
				if rep != 3 {
					break
				}
				if len(norm) > maxSym || r.pos > 8*len(b) {
					return nil, 0, zstdErr("FSE zero run too long")
				}
			}
			if len(norm) > maxSym {
				break
			}
		}
		max := 2*threshold - 1 - remaining
		v := int(r.peek32())
		var count int
		if v&(threshold-1) < max {
			count = v & (threshold - 1)
			r.pos += nbBits - 1
		} else {
			count = v & (2*threshold - 1)
			if count >= threshold {
				count -= max
			}
			r.pos += nbBits
		}
		count--
		if count < 0 {
			remaining--
		} else {
			remaining -= count
		}
		norm = append(norm, count)
		prev0 = count == 0
		for remaining < threshold && threshold > 1 {
			nbBits--
			threshold >>= 1
		}
	}
	if remaining != 1 || r.pos > 8*len(b) {
		return nil, 0, zstdErr("corrupt FSE table description")
	}
	t, err := buildFSE(norm, log)
	return t, (r.pos + 7) >> 3, err
}

// buildFSE builds a decoding table from normalized counts (-1: "less than
// one").
func buildFSE(norm []int, log int) (*fseTable, error) {
	size := 1 << log
	t := &fseTable{log: log, entries: make([]fseEntry, size)}
	next := make([]int, len(norm))
	high := size - 1
	for s, c := range norm {
		if c == -1 {
			t.entries[high].sym = uint8(s)
			high--
			next[s] = 1
		} else {
			next[s] = c
		}
	}
	step := size>>1 + size>>3 + 3
	pos := 0
	for s, c := range norm {
		for i := 0; i < c; i++ {
			t.entries[pos].sym = uint8(s)
			pos = (pos + step) & (size - 1)
			for pos > high {
				pos = (pos + step) & (size - 1)
			}
		}
	}
	if pos != 0 {
		return nil, zstdErr("FSE counts do not fill the table")
	}
	for u := range t.entries {
		s := t.entries[u].sym
		n := next[s]
		next[s]++
		if n == 0 {
			return nil, zstdErr("corrupt FSE table")
		}
		nb := log - (bits.Len(uint(n)) - 1)
		t.entries[u].nbBits = uint8(nb)
		t.entries[u].base = uint16(n<<nb - size)
	}
	return t, nil
}

func rleFSE(sym uint8) *fseTable {
	return &fseTable{log: 0, entries: []fseEntry{{sym: sym}}}
}

// Predefined distributions (RFC 8878 3.1.1.3.2.2).
var (
	llDefault = []int{4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1}
	mlDefault = []int{1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1}
	ofDefault = []int{1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1}

	llBase = [36]uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536}
	llBits = [36]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mlBase = [53]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539}
	mlBits = [53]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

	llPredef, mlPredef, ofPredef *fseTable
)

func init() {
	llPredef, _ = buildFSE(llDefault, 6)
	mlPredef, _ = buildFSE(mlDefault, 6)
	ofPredef, _ = buildFSE(ofDefault, 5)
}

// readHuffTable reads a Huffman tree description; it returns the bytes
// used.
func (d *zstdDecoder) readHuffTable(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, zstdErr("missing Huffman tree description")
	}
	hb := int(b[0])
	var weights []uint8
	used := 0
	if hb >= 128 {
		n := hb - 127
		used = 1 + (n+1)/2
		if used > len(b) {
			return 0, zstdErr("Huffman weights cut short")
		}
		for i := 0; i < n; i++ {
			w := b[1+i/2]
			if i%2 == 0 {
				w >>= 4
			}
			weights = append(weights, w&15)
		}
	} else {
		used = 1 + hb
		if used > len(b) {
			return 0, zstdErr("Huffman weights cut short")
		}
		t, n, err := readFSETable(b[1:used], 255, 6)
		if err != nil {
			return 0, err
		}
		r, err := newRevBits(b[1+n : used])
		if err != nil {
			return 0, err
		}
		s1 := int(r.read(t.log))
		s2 := int(r.read(t.log))
		for {
			if len(weights) > 255 {
				return 0, zstdErr("too many Huffman weights")
			}
			e := t.entries[s1]
			weights = append(weights, e.sym)
			s1 = int(e.base) + int(r.read(int(e.nbBits)))
			if r.valid < 0 {
				weights = append(weights, t.entries[s2].sym)
				break
			}
			e = t.entries[s2]
			weights = append(weights, e.sym)
			s2 = int(e.base) + int(r.read(int(e.nbBits)))
			if r.valid < 0 {
				weights = append(weights, t.entries[s1].sym)
				break
			}
		}
	}
	var total uint32
	for _, w := range weights {
		if w > 11 {
			return 0, zstdErr("Huffman weight %d", w)
		}
		if w > 0 {
			total += 1 << (w - 1)
		}
	}
	if total == 0 || len(weights) > 255 {
		return 0, zstdErr("corrupt Huffman weights")
	}
	maxBits := bits.Len32(total)
	rest := uint32(1)<<maxBits - total
	if rest&(rest-1) != 0 || maxBits > 11 {
		return 0, zstdErr("corrupt Huffman weights")
	}
	weights = append(weights, uint8(bits.Len32(rest)))
	var rankStart [13]int
	var count [13]int
	for _, w := range weights {
		count[w]++
	}
	next := 0
	for w := 1; w <= maxBits; w++ {
		rankStart[w] = next
		next += count[w] << (w - 1)
	}
	table := make([]huffEntry, 1<<maxBits)
	for s, w := range weights {
		if w == 0 {
			continue
		}
		n := 1 << w >> 1
		for i := rankStart[w]; i < rankStart[w]+n; i++ {
			table[i] = huffEntry{sym: uint8(s), nbBits: uint8(maxBits + 1 - int(w))}
		}
		rankStart[w] += n
	}
	d.huff, d.huffLog = table, maxBits
	return used, nil
}

func (d *zstdDecoder) huffStream(dst []byte, src []byte, n int) ([]byte, error) {
	r, err := newRevBits(src)
	if err != nil {
		return dst, err
	}
	for i := 0; i < n; i++ {
		e := d.huff[r.peek(d.huffLog)]
		r.valid -= int(e.nbBits)
		dst = append(dst, e.sym)
	}
	if r.valid != 0 {
		return dst, zstdErr("Huffman stream not fully used")
	}
	return dst, nil
}

// literals decodes the literals section; it returns the bytes used.
func (d *zstdDecoder) literals(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, zstdErr("missing literals section")
	}
	ltype := b[0] & 3
	sf := (b[0] >> 2) & 3
	d.lits = d.lits[:0]
	if ltype < 2 {
		var size, hdr int
		switch sf {
		case 0, 2:
			size, hdr = int(b[0]>>3), 1
		case 1:
			if len(b) < 2 {
				return 0, zstdErr("literals header cut short")
			}
			size, hdr = int(b[0]>>4)|int(b[1])<<4, 2
		case 3:
			if len(b) < 3 {
				return 0, zstdErr("literals header cut short")
			}
			size, hdr = int(b[0]>>4)|int(b[1])<<4|int(b[2])<<12, 3
		}
		if ltype == 0 {
			if hdr+size > len(b) {
				return 0, zstdErr("raw literals cut short")
			}
			d.lits = append(d.lits, b[hdr:hdr+size]...)
			return hdr + size, nil
		}
		if hdr+1 > len(b) {
			return 0, zstdErr("RLE literals cut short")
		}
		for i := 0; i < size; i++ {
			d.lits = append(d.lits, b[hdr])
		}
		return hdr + 1, nil
	}
	var regen, comp, hdr int
	streams := 4
	switch sf {
	case 0, 1:
		if len(b) < 3 {
			return 0, zstdErr("literals header cut short")
		}
		v := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		regen, comp, hdr = v>>4&0x3FF, v>>14&0x3FF, 3
		if sf == 0 {
			streams = 1
		}
	case 2:
		if len(b) < 4 {
			return 0, zstdErr("literals header cut short")
		}
		v := int(binary.LittleEndian.Uint32(b))
		regen, comp, hdr = v>>4&0x3FFF, v>>18&0x3FFF, 4
	case 3:
		if len(b) < 5 {
			return 0, zstdErr("literals header cut short")
		}
		v := int(binary.LittleEndian.Uint32(b)) | int(b[4])<<32
		regen, comp, hdr = v>>4&0x3FFFF, v>>22&0x3FFFF, 5
	}
	if hdr+comp > len(b) || regen > zstdMaxBlock {
		return 0, zstdErr("compressed literals cut short")
	}
	data := b[hdr : hdr+comp]
	if ltype == 2 {
		n, err := d.readHuffTable(data)
		if err != nil {
			return 0, err
		}
		data = data[n:]
	} else if d.huff == nil {
		return 0, zstdErr("treeless literals without a previous Huffman table")
	}
	var err error
	if streams == 1 {
		d.lits, err = d.huffStream(d.lits, data, regen)
	} else {
		if len(data) < 6 {
			return 0, zstdErr("literals jump table cut short")
		}
		s1, s2, s3 := int(binary.LittleEndian.Uint16(data)), int(binary.LittleEndian.Uint16(data[2:])), int(binary.LittleEndian.Uint16(data[4:]))
		data = data[6:]
		if s1+s2+s3 > len(data) {
			return 0, zstdErr("literals streams cut short")
		}
		per := (regen + 3) / 4
		if 3*per > regen {
			return 0, zstdErr("literals size %d too small for 4 streams", regen)
		}
		parts := [][]byte{data[:s1], data[s1 : s1+s2], data[s1+s2 : s1+s2+s3], data[s1+s2+s3:]}
		for i, p := range parts {
			n := per
			if i == 3 {
				n = regen - 3*per
			}
			if d.lits, err = d.huffStream(d.lits, p, n); err != nil {
				break
			}
		}
	}
	if err != nil {
		return 0, err
	}
	return hdr + comp, nil
}

func (d *zstdDecoder) seqTable(mode uint8, b []byte, prev **fseTable, predef *fseTable, maxSym, maxLog int) (int, error) {
	switch mode {
	case 0:
		*prev = predef
		return 0, nil
	case 1:
		if len(b) < 1 {
			return 0, zstdErr("RLE sequence table cut short")
		}
		if int(b[0]) > maxSym {
			return 0, zstdErr("RLE symbol %d", b[0])
		}
		*prev = rleFSE(b[0])
		return 1, nil
	case 2:
		t, n, err := readFSETable(b, maxSym, maxLog)
		if err != nil {
			return 0, err
		}
		*prev = t
		return n, nil
	default:
		if *prev == nil {
			return 0, zstdErr("repeated sequence table without a previous one")
		}
		return 0, nil
	}
}

// block decodes a compressed block, appending to out (the frame's window
// of history, which matches may reach back into).
func (d *zstdDecoder) block(out []byte, b []byte) ([]byte, error) {
	n, err := d.literals(b)
	if err != nil {
		return out, err
	}
	b = b[n:]
	if len(b) == 0 {
		return out, zstdErr("missing sequences section")
	}
	nseq := int(b[0])
	p := 1
	switch {
	case nseq == 0:
		return append(out, d.lits...), nil
	case nseq < 128:
	case nseq < 255:
		if len(b) < 2 {
			return out, zstdErr("sequences header cut short")
		}
		nseq = (nseq-128)<<8 + int(b[1])
		p = 2
	default:
		if len(b) < 3 {
			return out, zstdErr("sequences header cut short")
		}
		nseq = int(b[1]) + int(b[2])<<8 + 0x7F00
		p = 3
	}
	if p >= len(b) {
		return out, zstdErr("sequences header cut short")
	}
	modes := b[p]
	p++
	for _, t := range []struct {
		mode           uint8
		prev           **fseTable
		predef         *fseTable
		maxSym, maxLog int
	}{
		{modes >> 6, &d.ll, llPredef, 35, 9},
		{modes >> 4 & 3, &d.of, ofPredef, 31, 8},
		{modes >> 2 & 3, &d.ml, mlPredef, 52, 9},
	} {
		n, err := d.seqTable(t.mode, b[p:], t.prev, t.predef, t.maxSym, t.maxLog)
		if err != nil {
			return out, err
		}
		p += n
	}
	r, err := newRevBits(b[p:])
	if err != nil {
		return out, err
	}
	ll, of, ml := d.ll, d.of, d.ml
	sll := int(r.read(ll.log))
	sof := int(r.read(of.log))
	sml := int(r.read(ml.log))
	lits := d.lits
	blockStart := len(out)
	for i := 0; i < nseq; i++ {
		ofCode := of.entries[sof].sym
		mlCode := ml.entries[sml].sym
		llCode := ll.entries[sll].sym
		if ofCode > 31 || mlCode > 52 || llCode > 35 {
			return out, zstdErr("sequence code out of range")
		}
		ofVal := int(1<<ofCode) + int(r.read(int(ofCode)))
		mlen := int(mlBase[mlCode]) + int(r.read(int(mlBits[mlCode])))
		llen := int(llBase[llCode]) + int(r.read(int(llBits[llCode])))
		var offset int
		if ofVal > 3 {
			offset = ofVal - 3
			d.rep = [3]int{offset, d.rep[0], d.rep[1]}
		} else {
			idx := ofVal
			if llen == 0 {
				idx++
			}
			switch idx {
			case 1:
				offset = d.rep[0]
			case 2:
				offset = d.rep[1]
				d.rep = [3]int{offset, d.rep[0], d.rep[2]}
			case 3:
				offset = d.rep[2]
				d.rep = [3]int{offset, d.rep[0], d.rep[1]}
			default:
				offset = d.rep[0] - 1
				d.rep = [3]int{offset, d.rep[0], d.rep[1]}
			}
		}
		if i < nseq-1 {
			e := ll.entries[sll]
			sll = int(e.base) + int(r.read(int(e.nbBits)))
			e = ml.entries[sml]
			sml = int(e.base) + int(r.read(int(e.nbBits)))
			e = of.entries[sof]
			sof = int(e.base) + int(r.read(int(e.nbBits)))
		}
		if r.valid < 0 {
			return out, zstdErr("sequences bit stream overrun")
		}
		if len(out)-blockStart+llen+mlen > zstdMaxBlock {
			return out, zstdErr("block content over %d bytes", zstdMaxBlock)
		}
		if llen > len(lits) {
			return out, zstdErr("sequence needs %d literals, %d left", llen, len(lits))
		}
		out = append(out, lits[:llen]...)
		lits = lits[llen:]
		if offset <= 0 || offset > len(out) {
			return out, zstdErr("match offset %d beyond the %d bytes of history", offset, len(out))
		}
		from := len(out) - offset
		if offset >= mlen {
			out = append(out, out[from:from+mlen]...)
		} else {
			for k := 0; k < mlen; k++ { // overlapping: repeats the pattern
				out = append(out, out[from+k])
			}
		}
	}
	if r.valid != 0 {
		return out, zstdErr("sequences bit stream not fully used")
	}
	return append(out, lits...), nil
}
