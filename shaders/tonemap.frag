#version 330
// Exposure and tone mapping, in one place: linear scene radiance x daylight white balance x
// exposure -> ACES filmic curve
// (Narkowicz 2015 fit) -> average of the supersampled spacecraft samples -> sRGB transfer function. A tiny ordered dither (+-0.5/255, a fixed
// pattern, so the output stays deterministic) keeps the dark sky gradients free of banding.
// Optional illustrative window frame (the `window` view): a rounded pane with a soft dark edge.
uniform sampler2D u_far;                  // FAR pass, picture size
uniform sampler2D u_near;                 // NEAR pass (spacecraft, alpha = coverage), u_ss x larger
uniform float u_exposure;
uniform vec3 u_white_balance;             // per-channel camera gains (daylight white balance)
uniform int u_ss;
uniform vec4 u_frame;                     // x: 1 = draw the window frame; y: aspect (w/h); z: corner radius; w: edge
in vec2 v_uv;
out vec4 o_color;

vec3 aces(vec3 x) {
    return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0);
}

vec3 to_srgb(vec3 c) {
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(vec3(0.0031308), c));
}

float bayer4(vec2 p) {
    ivec2 q = ivec2(mod(p, 4.0));
    int i = q.x + 4 * q.y;
    int m[16] = int[16](0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5);
    return (float(m[i]) + 0.5) / 16.0 - 0.5;
}

void main() {
    // composite every NEAR sample over the FAR pixel, tone-map it, then average the samples
    vec3 far = texelFetch(u_far, ivec2(gl_FragCoord.xy), 0).rgb;
    ivec2 base = ivec2(gl_FragCoord.xy) * u_ss;
    vec3 c = vec3(0.0);
    for (int j = 0; j < u_ss; ++j) {
        for (int i = 0; i < u_ss; ++i) {
            vec4 near = texelFetch(u_near, base + ivec2(i, j), 0);
            vec3 hdr = mix(far, near.rgb, clamp(near.a, 0.0, 1.0));
            if (any(isnan(hdr)) || any(isinf(hdr))) hdr = vec3(0.0);
            c += aces(max(hdr, vec3(0.0)) * u_white_balance * u_exposure);
        }
    }
    c = to_srgb(c / float(u_ss * u_ss));
    if (u_frame.x > 0.5) {
        // a rounded rectangle pane, inset from the picture edge, seen slightly out of focus
        vec2 p = (v_uv - 0.5) * vec2(u_frame.y, 1.0);
        vec2 half_size = vec2(0.5 * u_frame.y, 0.5) * 0.90;
        vec2 q = abs(p) - half_size + u_frame.z;
        float d = length(max(q, 0.0)) + min(max(q.x, q.y), 0.0) - u_frame.z;
        float pane = 1.0 - smoothstep(-u_frame.w, u_frame.w, d);
        vec3 frame_col = vec3(0.028, 0.029, 0.031) * (1.0 - 0.5 * smoothstep(0.0, 0.08, d));
        c = mix(frame_col, c, pane);
    }
    c += bayer4(gl_FragCoord.xy) / 255.0;
    o_color = vec4(c, 1.0);
}
