#version 330
// Stars as GL points (experience/scene/sky.py), one vertex per star: its J2000 unit vector (the
// node's matrix rotates J2000 into ECI and scales it to the sky radius), its Hipparcos Hp
// magnitude and its colour (linear sRGB of a black body at the B-V temperature, luminance 1).

uniform mat4 p3d_ModelViewProjectionMatrix;
uniform vec4 sky_output;      // x: exposure (linear multiplier shared by the whole sky)
uniform vec4 star_params;     // x: magnitude at linear 1.0, y: largest point (px), z: halo gain
in vec4 p3d_Vertex;
in vec3 star_rgb;
in float star_mag;

out vec3 v_rgb;       // colour (luminance 1)
out float v_flux;     // linear brightness of the centre pixel, before exposure
out float v_halo;     // linear brightness of the ring of a 3 px point, before exposure
flat out float v_size;

void main() {
    vec4 clip = p3d_ModelViewProjectionMatrix * p3d_Vertex;
    clip.z = clip.w * 0.999998;  // on the far plane, whatever the lens's near/far
    gl_Position = clip;
    // flux relative to a star of magnitude star_params.x: 10^(-0.4 dm) = 2^(-0.4 log2(10) dm)
    float flux = exp2(-1.3287712 * (star_mag - star_params.x));
    float shown = flux * sky_output.x;
    // a star that saturates its pixel spills into a 3 px point (odd, so it keeps a centre pixel)
    float size = (shown > 1.0) ? min(3.0, star_params.y) : 1.0;
    v_rgb = star_rgb;
    v_flux = flux;
    v_halo = max(shown - 1.0, 0.0) * star_params.z / max(sky_output.x, 1e-6);
    v_size = size;
    gl_PointSize = size;
}
