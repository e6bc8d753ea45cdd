package cli

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"

	"github.com/yeqown/go-qrcode/v2"
)

// qrScale is the size of one QR module in pixels, and qrQuiet the white
// border in modules that scanners need.
const (
	qrScale = 8
	qrQuiet = 4
)

// writeQR writes text as a black-on-white QR code PNG to path.
func writeQR(path, text string) error {
	qr, err := qrcode.New(text)
	if err != nil {
		return fmt.Errorf("--qr: encoding %q: %w", text, err)
	}
	w := &pngWriter{path: path}
	if err := qr.Save(w); err != nil {
		return fmt.Errorf("--qr: %w", err)
	}
	return nil
}

// pngWriter renders a QR matrix as a PNG file (qrcode.Writer).
type pngWriter struct{ path string }

func (w *pngWriter) Write(m qrcode.Matrix) error {
	bits := m.Bitmap() // [y][x]
	n := len(bits)
	size := (n + 2*qrQuiet) * qrScale
	img := image.NewGray(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range bits {
		for x, set := range row {
			if !set {
				continue
			}
			for dy := range qrScale {
				for dx := range qrScale {
					img.SetGray((x+qrQuiet)*qrScale+dx, (y+qrQuiet)*qrScale+dy, color.Gray{})
				}
			}
		}
	}
	f, err := os.Create(w.path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func (*pngWriter) Close() error { return nil }
