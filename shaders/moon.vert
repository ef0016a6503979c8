#version 330
// The Moon: a unit sphere in its own selenographic frame (+y toward the Earth, +z lunar north,
// east longitude toward -x); the node's matrix places, orients and scales it (metres).

uniform mat4 p3d_ModelViewProjectionMatrix;
in vec4 p3d_Vertex;
in vec3 p3d_Normal;
out vec3 v_normal;   // model (selenographic) frame

void main() {
    vec4 clip = p3d_ModelViewProjectionMatrix * p3d_Vertex;
    clip.z = clip.w * 0.999998;  // on the far plane, whatever the lens's near/far
    gl_Position = clip;
    v_normal = p3d_Normal;
}
